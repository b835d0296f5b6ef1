"""Meta-analysis: ``rma`` (metafor's rma.uni), Mantel-Haenszel, Peto, forest plots."""

from .forest import forest_plot
from .mh import rma_mh, rma_peto
from .result import MetaResult
from .rma import rma

__all__ = ["MetaResult", "forest_plot", "rma", "rma_mh", "rma_peto"]
