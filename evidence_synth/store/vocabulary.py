"""Fixed vocabularies of the review store (no heavy imports: the CLI's options use them)."""

from __future__ import annotations

#: Screening stages, in order, and the decisions each accepts.
STAGE_DECISIONS: dict[str, tuple[str, ...]] = {
    "title_abstract": ("include", "exclude", "maybe"),
    "retrieval": ("retrieved", "not_retrieved"),
    "full_text": ("include", "exclude", "maybe"),
}
ACTORS = ("human", "rule", "model")
SOURCE_KINDS = (
    "previous_version", "database", "register", "grey_literature", "citation_search", "other",
)
