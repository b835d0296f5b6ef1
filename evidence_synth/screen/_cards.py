"""Screening cards: the next records as HTML, with highlights, tags and why they rank there."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .. import columns as C  # noqa: N812
from .rules import highlight_html


@dataclass
class Cards:
    """The next records to screen, as HTML cards (returned by :meth:`Screening.next`)."""

    cards: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.cards)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.cards)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.cards[i]

    def __repr__(self) -> str:
        lines = [f"Cards({len(self.cards)} records)"]
        lines += [f"  #{c['rank']} {c['record_id']} ({c['score']:.3g}): {c['title'][:70]}"
                  for c in self.cards]
        return "\n".join(lines)

    @property
    def record_ids(self) -> list[str]:
        """Record ids of the cards, in order."""
        return [c["record_id"] for c in self.cards]

    def to_frame(self) -> pd.DataFrame:
        """One row per card.

        Returns
        -------
        pandas.DataFrame
            Columns ``rank, record_id, score, source, title, year, tags, rules, why``
            (``tags`` and ``rules`` lists of str, ``why`` a short text).
        """
        cols = ["rank", "record_id", "score", "source", "title", "year", "tags", "rules", "why"]
        return pd.DataFrame([{c: card.get(c) for c in cols} for card in self.cards],
                            columns=cols)

    def summary(self) -> str:
        """One line per card: rank, record id, score, title."""
        return repr(self)

    def _repr_html_(self) -> str:
        if not self.cards:
            return "<p>No records left to screen.</p>"
        return "\n".join(card["html"] for card in self.cards)


class CardsMixin:
    """A record as a card and the explanation of its score, for :class:`.Screening`."""

    def _card(self, item: Any, rank: int) -> dict[str, Any]:
        record = self.records().set_index(C.RECORD_ID).loc[item.record_id]
        hits = self.hits()
        rh = hits[item.record_id] if hits is not None else None
        title, abstract = record[C.TITLE], record[C.ABSTRACT]
        spans = rh.spans if rh else ()
        title_html = highlight_html(_text(title), spans, field="title") or "(no title)"
        abstract_html = (highlight_html(_text(abstract), spans, field="abstract")
                         or "<i>(no abstract)</i>")
        why = self._why(record, rh)
        others = ""
        if not self.blind:
            latest = self.latest()
            latest = latest[(latest["record_id"] == item.record_id)
                            & (latest["reviewer"] != self.reviewer)]
            others = ", ".join(f"{r}: {d}" for r, d in zip(latest["reviewer"],
                                                            latest["decision"], strict=True))
        meta = [f"#{rank}", f"score {float(item.score):.3g} ({item.source})",
                html.escape(str(item.record_id))]
        for col in (C.YEAR, C.JOURNAL):
            if not pd.isna(record[col]):
                meta.append(html.escape(str(record[col])))
        tags = "".join(
            f'<span class="es-tag" style="background:{_tag_colour(t)};border-radius:3px;'
            f'padding:0 4px;margin-right:4px;font-size:0.85em">{html.escape(t)}</span>'
            for t in (rh.tags if rh else ())
        )
        body = (
            f'<div class="es-card" data-record-id="{html.escape(str(item.record_id))}" '
            'style="border:1px solid #ccc;border-radius:6px;padding:8px 12px;margin:6px 0">'
            f'<div style="font-size:0.8em;color:#666">{" · ".join(meta)}</div>'
            f'<div style="font-weight:600;font-size:1.05em;margin:2px 0">{title_html}</div>'
            f'<div style="font-size:0.92em">{abstract_html}</div>'
            + (f'<div style="margin-top:4px">{tags}</div>' if tags else "")
            + (f'<div style="font-size:0.8em;color:#444;margin-top:4px">{html.escape(why)}</div>'
               if why else "")
            + (f'<div style="font-size:0.8em;color:#a00">other reviewers: {html.escape(others)}'
               "</div>" if others else "")
            + "</div>"
        )
        return {
            "rank": rank, "record_id": item.record_id, "score": float(item.score),
            "source": item.source, "title": _text(title), "abstract": _text(abstract),
            "year": record[C.YEAR], "tags": list(rh.tags) if rh else [],
            "rules": list(rh.rules) if rh else [], "why": why, "html": body,
        }

    def _why(self, record: pd.Series, rh: Any) -> str:
        parts = []
        if self.ranker is not None and getattr(self.ranker, "coef_", None) is not None:
            frame = pd.DataFrame({C.TITLE: [_text(record[C.TITLE])],
                                  C.ABSTRACT: [_text(record[C.ABSTRACT])]})
            terms = self.ranker.explain(frame, top=25)
            # a boolean mask even when empty (an empty object Series would select columns)
            terms = terms[terms["term"].map(_meaningful).astype(bool)]
            up = terms.loc[terms["direction"] == "for", "term"].head(5).tolist()
            down = terms.loc[terms["direction"] == "against", "term"].head(5).tolist()
            if up:
                parts.append("for: " + ", ".join(map(str, up)))
            if down:
                parts.append("against: " + ", ".join(map(str, down)))
        if rh is not None and rh.rules and self.rules is not None:
            labels = [self.rules[r].label or r for r in rh.rules]
            parts.append("rules: " + "; ".join(labels))
        return " | ".join(parts)


def _meaningful(term: Any) -> bool:
    # Word features only (character n-grams are shown as "[...]"), not only stop words.
    text = str(term)
    return not text.startswith("[") and not all(w in ENGLISH_STOP_WORDS for w in text.split())


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _tag_colour(tag: str) -> str:
    return {"ext:border_management": "#ffd8a8",
            "ext:partnership_diplomacy": "#b5d8ff"}.get(tag, "#e8e8e8")
