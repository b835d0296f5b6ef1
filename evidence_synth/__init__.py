"""evidence_synth: systematic evidence synthesis, from database exports to PRISMA.

The public surface is a small set of stage functions and result objects; see the README
and ``docs/`` for the pipeline. ``Review`` and ``open_review`` load their dependencies
(SQLAlchemy, pandas) on first use, so ``import evidence_synth`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import DataQualityWarning, EvidenceSynthError

if TYPE_CHECKING:
    from .store import Review, open_review

__all__ = ["DataQualityWarning", "EvidenceSynthError", "Review", "__version__", "open_review"]


def __getattr__(name: str) -> Any:
    if name in ("Review", "open_review"):
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
