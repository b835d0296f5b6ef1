"""Meta-analysis: ``rma`` (metafor's rma.uni), Mantel-Haenszel, Peto, forest plots, and
``pool`` (one model per group of an evidence table)."""

from .forest import forest_plot
from .mh import rma_mh, rma_peto
from .pool import pool
from .result import MetaResult
from .rma import rma

__all__ = ["MetaResult", "forest_plot", "pool", "rma", "rma_mh", "rma_peto"]
