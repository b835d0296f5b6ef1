"""Manual decisions: split/join helpers and a notebook reviewer (ipywidgets)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import combinations, product
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import EvidenceSynthError
from ._html import pair_html
from ._result import DedupResult

if TYPE_CHECKING:
    from ..store import Review

_COLUMNS = ["record_id_1", "record_id_2", "decision"]


def join_decisions(record_ids: Iterable[str]) -> pd.DataFrame:
    """Manual ``match`` decisions putting all ``record_ids`` into one group.

    Returns
    -------
    pandas.DataFrame
        Columns ``record_id_1``, ``record_id_2``, ``decision`` (every pair, ``match``).
    """
    ids = sorted({str(r) for r in record_ids})
    return pd.DataFrame([(a, b, "match") for a, b in combinations(ids, 2)], columns=_COLUMNS)


def split_decisions(part_a: Iterable[str], part_b: Iterable[str]) -> pd.DataFrame:
    """Manual ``distinct`` decisions keeping ``part_a`` and ``part_b`` in different groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``record_id_1``, ``record_id_2``, ``decision`` (every cross pair,
        ``distinct``).
    """
    rows = [(str(a), str(b), "distinct") for a, b in product(part_a, part_b) if a != b]
    return pd.DataFrame(rows, columns=_COLUMNS)


class DedupReviewer:
    """Work through a review queue in a notebook: match / distinct / skip.

    Parameters
    ----------
    records : pandas.DataFrame
        The records given to ``find_duplicates``.
    result : DedupResult
        Its result; the queue is ``result.review_queue()``.
    review : Review, optional
        Write every match/distinct answer at once to this review store as a pair-decision
        event (a crashed kernel loses nothing); needs ``reviewer``.
    reviewer : str, optional
        Who answers, recorded with each stored decision.
    on_decision : callable, optional
        Also called as ``on_decision(record_id_1, record_id_2, decision)`` for every answer.

    Attributes
    ----------
    decisions : pandas.DataFrame
        Answers so far (``record_id_1``, ``record_id_2``, ``decision``); pass it as
        ``manual_decisions=`` to the next ``find_duplicates`` run.
    """

    def __init__(self, records: pd.DataFrame, result: DedupResult, *, review: Review | None = None,
                 reviewer: str | None = None,
                 on_decision: Callable[[str, str, str], None] | None = None) -> None:
        if review is not None and not reviewer:
            raise EvidenceSynthError("DedupReviewer(review=...) needs reviewer= (who answers)")
        self.review = review
        self.reviewer = reviewer
        self.records = records
        self.result = result
        self.queue = result.review_queue()
        self.on_decision = on_decision
        self.position = 0
        self._answers: list[tuple[str, str, str]] = []
        self._widget = None

    @property
    def decisions(self) -> pd.DataFrame:
        return pd.DataFrame(self._answers, columns=_COLUMNS)

    def current(self) -> pd.Series | None:
        """The pair on screen (``None`` when the queue is done)."""
        return self.queue.iloc[self.position] if self.position < len(self.queue) else None

    def answer(self, decision: str) -> None:
        """Record ``match`` or ``distinct`` for the current pair (``skip`` moves on)."""
        if decision not in ("match", "distinct", "skip"):
            raise EvidenceSynthError(
                f"decision must be match, distinct or skip, found {decision!r}")
        pair = self.current()
        if pair is None:
            return
        if decision != "skip":
            self._answers.append((pair["record_id_1"], pair["record_id_2"], decision))
            if self.review is not None:
                self.review.add_pair_decision(pair["record_id_1"], pair["record_id_2"],
                                              decision, reviewer=self.reviewer)
            if self.on_decision is not None:
                self.on_decision(pair["record_id_1"], pair["record_id_2"], decision)
        self.position += 1
        self._render()

    def widget(self):
        """The ipywidgets box (needs the ``notebook`` extra)."""
        import ipywidgets as w

        self._html = w.HTML()
        self._status = w.Label()
        buttons = []
        for label, decision, style in (("Match", "match", "success"),
                                       ("Distinct", "distinct", "danger"),
                                       ("Skip", "skip", "")):
            button = w.Button(description=label, button_style=style)
            button.on_click(lambda _b, d=decision: self.answer(d))
            buttons.append(button)
        self._widget = w.VBox([self._status, self._html, w.HBox(buttons)])
        self._render()
        return self._widget

    def _render(self) -> None:
        if self._widget is None:
            return
        pair = self.current()
        self._status.value = f"pair {min(self.position + 1, len(self.queue))} of {len(self.queue)}"
        self._html.value = "<p>Review queue done.</p>" if pair is None else pair_html(
            self.records, pair["record_id_1"], pair["record_id_2"], pairs=self.result.pairs)

    def _ipython_display_(self) -> None:  # pragma: no cover - notebook only
        from IPython.display import display

        display(self.widget())
