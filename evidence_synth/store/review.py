"""The review store (the Review class now lives in ``_records`` while it is split up)."""

from ._records import ACTORS, SOURCE_KINDS, STAGE_DECISIONS, Review, open_review

__all__ = ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review", "open_review"]
