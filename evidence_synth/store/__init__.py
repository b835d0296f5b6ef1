"""The review store: sources, records, decisions and extraction rows in one database."""

from .review import ACTORS, SOURCE_KINDS, STAGE_DECISIONS, Review, open_review

__all__ = ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review", "open_review"]
