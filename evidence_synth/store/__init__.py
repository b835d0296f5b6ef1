"""The review store: sources, records, decisions and extraction rows in one database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .vocabulary import ACTORS, SOURCE_KINDS, STAGE_DECISIONS

if TYPE_CHECKING:
    from .review import Review, open_review

__all__ = ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review", "open_review"]


def __getattr__(name: str) -> Any:
    # Review and open_review load SQLAlchemy and pandas only when first used.
    if name in ("Review", "open_review"):
        from . import review

        return getattr(review, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
