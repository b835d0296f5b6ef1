"""Text the store can write: no lone surrogates (UTF-8 cannot encode them).

A lone surrogate (``"\\ud800"``) comes from bytes decoded with
``errors="surrogateescape"``, a JSON escape such as ``\\ud800`` or a DataFrame built in
code. SQLite would raise a bare ``UnicodeEncodeError`` on it; the store refuses it first,
naming the row and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import StoreError

_SURROGATE = re.compile("[\ud800-\udfff]")


def refuse_lone_surrogates(rows: Iterable[Mapping[str, Any]], *, what: str,
                           key: str | None = None) -> None:
    """Raise :class:`StoreError` naming the first row and field holding a lone surrogate.

    ``what`` names the rows (``"record"``, ``"decision event"``, ``"source"``) and
    ``key`` the field that identifies a row (``record_id``); without it the row's position.
    """
    rows = list(rows)
    texts = [v for row in rows for v in row.values() if isinstance(v, str)]
    if not _SURROGATE.search("\n".join(texts)):  # one search over the batch: the usual case
        return
    for i, row in enumerate(rows, start=1):
        for field, value in row.items():
            found = _SURROGATE.search(value) if isinstance(value, str) else None
            if found is None:
                continue
            name = f"{what} {row.get(key)!r}" if key and row.get(key) else f"{what} {i}"
            context = value[max(0, found.start() - 20):found.start()]
            raise StoreError(
                f"{name}, field {field!r}: the text holds a lone surrogate "
                f"{found.group()!r} at character {found.start() + 1} (after {context!r}), "
                "which UTF-8 cannot store; it comes from bytes decoded with "
                "errors='surrogateescape', a JSON escape such as \\ud800 or text built in "
                "code: decode the file with its real encoding or remove the character")
