"""Extraction: the extraction form, the schema-validated evidence table and its Excel
template.

The effect-size functions live in :mod:`evidence_synth.effects`; ``escalc``, the
conversions and ``compute_effect``/``recompute``/``formulas`` are re-exported here
because extraction is where reviewers meet them.
"""

from ..effects import (
    MEASURES,
    Conversion,
    cluster_d,
    compute_effect,
    d_from_b,
    d_from_chisq,
    d_from_p,
    d_from_t,
    d_to_logor,
    d_to_r,
    dppc2,
    escalc,
    formulas,
    logor_to_d,
    partial_r_from_t,
    r_to_d,
    recompute,
    semipartial_r_from_t,
    wwc_cluster_correction,
)
from .form import Codebook, ExtractionForm, default_form, load_codebook, load_form
from .table import EvidenceTable, discrepancies, read_extraction_workbook
from .template import write_template

__all__ = [
    "MEASURES",
    "Codebook",
    "Conversion",
    "EvidenceTable",
    "ExtractionForm",
    "cluster_d",
    "compute_effect",
    "d_from_b",
    "d_from_chisq",
    "d_from_p",
    "d_from_t",
    "d_to_logor",
    "d_to_r",
    "default_form",
    "discrepancies",
    "dppc2",
    "escalc",
    "formulas",
    "load_codebook",
    "load_form",
    "logor_to_d",
    "partial_r_from_t",
    "r_to_d",
    "read_extraction_workbook",
    "recompute",
    "semipartial_r_from_t",
    "write_template",
    "wwc_cluster_correction",
]
