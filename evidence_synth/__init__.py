"""evidence_synth: systematic evidence synthesis, from database exports to PRISMA.

The public surface is a small set of stage functions and result objects; see the README
and ``docs/`` for the pipeline.
"""

from ._version import __version__
from .errors import DataQualityWarning, EvidenceSynthError
from .store import Review, open_review

__all__ = ["DataQualityWarning", "EvidenceSynthError", "Review", "__version__", "open_review"]
