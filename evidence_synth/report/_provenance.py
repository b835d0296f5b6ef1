"""Provenance stamped on every report output: library version and protocol hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .._version import __version__

if TYPE_CHECKING:
    from ..protocol import Protocol
    from ..store import Review


def protocol_of(review: Review | None) -> Protocol | None:
    """The review's newest protocol snapshot, or ``None`` (also when it cannot be read)."""
    if review is None:
        return None
    try:
        return review.protocol
    except (ImportError, AttributeError, ValueError):
        return None


def provenance(protocol_sha256: str | None) -> dict[str, str]:
    """Metadata written with each output (JSON-compatible)."""
    return {
        "generator": "evidence_synth",
        "version": __version__,
        "protocol_sha256": protocol_sha256 or "none",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def footer_text(protocol_sha256: str | None) -> str:
    """One line for figure footers and HTML pages."""
    return f"evidence_synth {__version__} · protocol sha256 {protocol_sha256 or 'none'}"
