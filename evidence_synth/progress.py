"""Progress bars for slow steps, on standard error, only where a person watches.

A bar appears when a step has run for more than a second, only when standard error is a
terminal, and never under :func:`quiet` (the command line's ``--quiet``). Library code
calls :func:`bar` (an iterable or a count) or :func:`steps` (named phases of one job,
with the elapsed time kept ticking while a phase runs).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_QUIET = False
#: Seconds a step runs before its bar appears.
DELAY = 1.0


def set_quiet(value: bool = True) -> None:
    """Turn progress bars off (``True``) or back on for this process."""
    global _QUIET
    _QUIET = bool(value)


@contextmanager
def quiet() -> Iterator[None]:
    """No progress bars inside the ``with`` block."""
    before = _QUIET
    set_quiet(True)
    try:
        yield
    finally:
        set_quiet(before)


def enabled() -> bool:
    """True when bars are shown: not quiet and standard error is a terminal."""
    if _QUIET:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def bar(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str = "",
        unit: str = "it") -> Any:
    """A tqdm bar over ``iterable`` (or of ``total`` units, advanced with ``update``).

    Disabled unless :func:`enabled`; appears after :data:`DELAY` seconds.
    """
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled(),
                delay=DELAY, leave=False, dynamic_ncols=True, file=sys.stderr)


class Steps:
    """Named phases of one job on one bar; :meth:`step` starts the next phase."""

    def __init__(self, desc: str, names: Sequence[str]) -> None:
        self.desc = desc
        self.names = list(names)
        self._bar = bar(total=len(self.names), desc=desc, unit="step")
        self._done = 0
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if not self._bar.disable:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            if time.monotonic() - self._start >= DELAY:
                self._bar.refresh()

    def step(self, name: str) -> None:
        """Mark the phases before ``name`` done and show ``name`` as running."""
        self._bar.set_postfix_str(name, refresh=False)
        if name in self.names:
            done = self.names.index(name)
            self._bar.update(done - self._done)
            self._done = done

    def done(self, name: str) -> None:
        """Mark ``name`` (and the phases before it) done; show the next one as running."""
        if name in self.names:
            after = self.names.index(name) + 1
            if after < len(self.names):
                self.step(self.names[after])
            else:
                self._bar.update(len(self.names) - self._done)
                self._done = len(self.names)

    def close(self) -> None:
        """Finish the bar (all phases done) and stop the ticker."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self._bar.update(len(self.names) - self._done)
        self._done = len(self.names)
        self._bar.close()


@contextmanager
def steps(desc: str, names: Sequence[str]) -> Iterator[Steps]:
    """A :class:`Steps` bar for a ``with`` block (closed on exit, also on errors)."""
    tracker = Steps(desc, names)
    try:
        yield tracker
    finally:
        tracker.close()
