"""Reporting: PRISMA 2020 counts and flow diagram, the evidence gap map, the review report.

Every number is derived from the review store (sources, duplicate groups, decision
events); nothing is counted by hand.
"""

from .builder import ReportResult, build_report
from .diagram import PrismaDiagram, prisma_diagram
from .gapmap import GapMap, evidence_from_map, gap_map
from .prisma import PrismaCounts, prisma_counts

__all__ = [
    "GapMap",
    "PrismaCounts",
    "PrismaDiagram",
    "ReportResult",
    "build_report",
    "evidence_from_map",
    "gap_map",
    "prisma_counts",
    "prisma_diagram",
]
