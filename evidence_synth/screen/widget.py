"""An ipywidgets screener for a :class:`~evidence_synth.screen.session.Screening` session.

Every click (or key) writes one decision event to the review store at once, so a crashed
kernel loses nothing. Keyboard shortcuts work while the "keys" box has the focus (click
into it once):

=========  ===============================================================
key        action
=========  ===============================================================
``i``      include (retrieval stage: ``r`` retrieved)
``e``      exclude with the selected reason (retrieval: ``n`` not retrieved)
``m``      maybe
``1``-``9`` select an exclusion reason (its ``shortcut`` in the criteria, or
           its position in the list)
``s``      skip: show the next record without deciding
``b``      back: show the record decided last, to decide it again (a new event)
=========  ===============================================================

ipywidgets is an optional dependency (``pip install evidence-synth[notebook]``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceSynthError
from ._cards import _text

if TYPE_CHECKING:
    from .session import Screening

__all__ = ["ScreeningWidget"]

_KEYS = {"i": "include", "e": "exclude", "m": "maybe", "r": "retrieved", "n": "not_retrieved"}
_STYLES = {"include": "success", "exclude": "danger", "maybe": "warning",
           "retrieved": "success", "not_retrieved": "danger"}


def _widgets() -> Any:
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EvidenceSynthError(
            "ScreeningWidget needs ipywidgets: pip install 'evidence-synth[notebook]'"
        ) from exc
    return ipywidgets


class ScreeningWidget:
    """Screen records one at a time with buttons, a reason list, a note and shortcuts.

    Parameters
    ----------
    session : Screening
        The session (review, stage, reviewer, rules, ranker, stopping rule).

    Attributes
    ----------
    buttons : dict
        Decision -> ``ipywidgets.Button`` (``include``, ``exclude``, ``maybe`` or, at the
        retrieval stage, ``retrieved``, ``not_retrieved``); plus ``skip`` and ``back``.
    reason : ipywidgets.Dropdown
        Exclusion reasons of the stage (from the criteria).
    note : ipywidgets.Textarea
    keys : ipywidgets.Text
        Type a shortcut here (see the module docstring).
    progress : ipywidgets.IntProgress
    status : ipywidgets.HTML
        The last action or error.
    current : str or None
        Record id on screen.

    Examples
    --------
    >>> session = Screening(review, reviewer="ana", rules=rules, criteria=criteria)
    >>> ScreeningWidget(session)  # doctest: +SKIP
    """

    def __init__(self, session: Screening) -> None:
        w = _widgets()
        self.session = session
        self.current: str | None = None
        self._skipped: list[str] = []
        self._history: list[str] = _decided_in_order(session)
        self._revisit: str | None = None
        reasons = session.reasons
        options = [("(no reason)", None)] + [
            (f"{i + 1}. {r.code}: {r.label}" if not r.shortcut else
             f"{r.shortcut}. {r.code}: {r.label}", r.code)
            for i, r in enumerate(reasons.itertuples(index=False))
        ]
        self._shortcuts = {
            (r.shortcut or str(i + 1)): r.code
            for i, r in enumerate(reasons.itertuples(index=False)) if i < 9 or r.shortcut
        }
        self.card = w.HTML()
        self.reason = w.Dropdown(options=options, value=None, description="Reason")
        self.note = w.Textarea(placeholder="note (optional)", layout=w.Layout(width="60%"))
        self.keys = w.Text(placeholder="keys: i e m 1-9 s b", continuous_update=True,
                           layout=w.Layout(width="180px"))
        self.buttons: dict[str, Any] = {}
        for decision in session.decisions_allowed:
            button = w.Button(description=decision.replace("_", " "),
                              button_style=_STYLES.get(decision, ""))
            button.on_click(lambda _b, d=decision: self.decide(d))
            self.buttons[decision] = button
        self.buttons["skip"] = w.Button(description="skip")
        self.buttons["skip"].on_click(lambda _b: self.skip())
        self.buttons["back"] = w.Button(description="back")
        self.buttons["back"].on_click(lambda _b: self.back())
        self.progress = w.IntProgress(min=0, max=1, value=0, description="screened")
        self.progress_label = w.HTML()
        self.status = w.HTML()
        self.keys.observe(self._on_key, names="value")
        self.box = w.VBox([
            w.HBox([self.progress, self.progress_label]),
            self.card,
            w.HBox([*self.buttons.values(), self.keys]),
            w.HBox([self.reason, self.note]),
            self.status,
        ])
        self.refresh()

    # -- display --------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def refresh(self) -> None:
        """Show the next record and update the progress bar."""
        if self._revisit is not None:
            self.current = self._revisit
            self.card.value = self._revisit_card(self._revisit)
        else:
            cards = self.session.next(len(self._skipped) + 1)
            fresh = [c for c in cards if c["record_id"] not in self._skipped]
            if not fresh and self._skipped:
                self._skipped.clear()
                fresh = list(self.session.next(1))
            if fresh:
                self.current = fresh[0]["record_id"]
                self.card.value = fresh[0]["html"]
            else:
                self.current = None
                self.card.value = "<p><b>No records left to screen at this stage.</b></p>"
        progress = self.session.progress()
        self.progress.max = max(progress.n_records, 1)
        self.progress.value = progress.n_screened
        self.progress_label.value = html.escape(progress.summary())

    def _revisit_card(self, rid: str) -> str:
        record = self.session.records().set_index("record_id").loc[rid]
        mine = self.session.my_decisions().set_index("record_id")
        before = ""
        if rid in mine.index:
            reason = _text(mine.loc[rid, "reason"])
            before = f"; you decided: {mine.loc[rid, 'decision']}" + (
                f" ({reason})" if reason else "")
        title, abstract = _text(record["title"]), _text(record["abstract"])
        return (
            f'<div class="es-card" data-record-id="{html.escape(rid)}" style="border:2px '
            f'solid #888;border-radius:6px;padding:8px 12px">'
            f"<div style='font-size:0.8em;color:#666'>decide again: {html.escape(rid)}"
            f"{html.escape(before)}</div><b>{html.escape(title) or '(no title)'}</b>"
            f"<div style='font-size:0.92em'>{html.escape(abstract) or '<i>(no abstract)</i>'}"
            "</div></div>"
        )

    # -- actions --------------------------------------------------------------------------
    def decide(self, decision: str) -> int | None:
        """Record ``decision`` for the record on screen (what the buttons do)."""
        if self.current is None:
            self.status.value = "Nothing to decide."
            return None
        reason = self.reason.value if decision in ("exclude", "not_retrieved") else None
        if (decision == "exclude" and reason is None and self.session.stage == "full_text"
                and len(self.session.reasons)):
            self.status.value = "<span style='color:#a00'>Choose a reason to exclude.</span>"
            return None
        note = self.note.value.strip() or None
        try:
            event = self.session.decide(self.current, decision, reason=reason, note=note)
        except EvidenceSynthError as exc:
            self.status.value = f"<span style='color:#a00'>{html.escape(str(exc))}</span>"
            return None
        self.status.value = html.escape(
            f"{self.current}: {decision}" + (f" ({reason})" if reason else "")
            + f" saved (event {event})"
        )
        if self.current in self._history:
            self._history.remove(self.current)
        self._history.append(self.current)
        if self.current in self._skipped:
            self._skipped.remove(self.current)
        self._revisit = None
        self.reason.value = None
        self.note.value = ""
        self.refresh()
        return event

    def skip(self) -> None:
        """Show the next record without deciding this one."""
        if self.current is not None and self._revisit is None:
            self._skipped.append(self.current)
        self._revisit = None
        self.refresh()

    def back(self) -> None:
        """Show the record decided last again, to change the decision (a new event)."""
        if not self._history:
            self.status.value = "Nothing decided yet at this stage."
            return
        self._revisit = self._history.pop()
        self.refresh()

    def press(self, key: str) -> None:
        """Act on one shortcut key (what typing in :attr:`keys` does)."""
        key = key.lower()
        if key in self._shortcuts:
            self.reason.value = self._shortcuts[key]
        elif key == "s":
            self.skip()
        elif key == "b":
            self.back()
        elif _KEYS.get(key) in self.session.decisions_allowed:
            self.decide(_KEYS[key])
        else:
            self.status.value = html.escape(f"unknown key {key!r}")

    def _on_key(self, change: dict[str, Any]) -> None:
        value = change.get("new") or ""
        if not value:
            return
        self.keys.value = ""
        for key in value:
            self.press(key)


def _decided_in_order(session: Screening) -> list[str]:
    """The reviewer's records at this stage, the one decided last at the end (so that
    ``back`` in a reopened notebook starts from the last decision in the store)."""
    events = session.events(reviewer=session.reviewer)
    events = events[(events["kind"] == "screen") & (events["actor"] == "human")]
    pool = set(session.records()["record_id"].astype(str))
    ids = events.drop_duplicates("record_id", keep="last")["record_id"].astype(str)
    return [r for r in ids if r in pool]
