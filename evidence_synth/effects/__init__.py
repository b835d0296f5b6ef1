"""Effect sizes: metafor's ``escalc`` measures, conversions between metrics, and the
formulas that turn reported statistics into ``yi``/``vi`` for the evidence table."""

from .compute import compute_effect, formulas, recompute
from .conversions import (
    Conversion,
    cluster_d,
    d_from_b,
    d_from_chisq,
    d_from_p,
    d_from_t,
    d_to_logor,
    d_to_r,
    dppc2,
    logor_to_d,
    partial_r_from_t,
    r_to_d,
    semipartial_r_from_t,
    wwc_cluster_correction,
)
from .effect_sizes import escalc
from .registry import MEASURES, measures

__all__ = [
    "MEASURES",
    "Conversion",
    "cluster_d",
    "compute_effect",
    "d_from_b",
    "d_from_chisq",
    "d_from_p",
    "d_from_t",
    "d_to_logor",
    "d_to_r",
    "dppc2",
    "escalc",
    "formulas",
    "logor_to_d",
    "measures",
    "partial_r_from_t",
    "r_to_d",
    "recompute",
    "semipartial_r_from_t",
    "wwc_cluster_correction",
]
