"""Text in the library's figures is drawn exactly as given: no mathtext, no TeX.

Matplotlib reads text between two ``$`` signs as mathtext, and with ``text.usetex`` all
text as TeX. Names and titles come from users' data (a database, a review, a study label):
``$\\foo$`` would stop the figure with a parse error, and ``Costs $5 and $6`` would lose
its dollar signs and be set in italics. Every figure the library draws is made inside
:func:`plain_text`, which turns both off for the text created there.
"""

from __future__ import annotations

import contextlib
from typing import Any

import matplotlib

__all__ = ["PLAIN_TEXT", "plain_text"]

#: The matplotlib settings that make text literal.
PLAIN_TEXT = {"text.parse_math": False, "text.usetex": False}


def plain_text(**rc: Any) -> contextlib.AbstractContextManager[None]:
    """``matplotlib.rc_context`` with ``rc`` and :data:`PLAIN_TEXT`; a context manager and
    a decorator.

    Text objects keep the setting they were made with, so a figure made inside draws its
    text literally wherever it is saved.
    """
    return matplotlib.rc_context({**rc, **PLAIN_TEXT})
