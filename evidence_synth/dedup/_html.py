"""pair_html: two records side by side with their differences highlighted."""

from __future__ import annotations

import difflib
import html
from typing import Any

import pandas as pd

from ..errors import ContractError

_FIELDS = ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
           "pub_type", "abstract", "source_id")
_STYLE = ("<style>.es-pair td{vertical-align:top;padding:2px 6px;text-align:left}"
          ".es-pair del{background:#fdd;text-decoration:none}"
          ".es-pair ins{background:#dfd;text-decoration:none}"
          ".es-pair .es-same{color:#666}</style>")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if value is None or (not isinstance(value, dict) and pd.isna(value)):
        return ""
    return str(value)


def _diff(a: str, b: str) -> tuple[str, str]:
    ta, tb = a.split(" "), b.split(" ")
    left, right = [], []
    matcher = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        sa, sb = html.escape(" ".join(ta[i1:i2])), html.escape(" ".join(tb[j1:j2]))
        if op == "equal":
            left.append(sa)
            right.append(sb)
        else:
            if sa:
                left.append(f"<del>{sa}</del>")
            if sb:
                right.append(f"<ins>{sb}</ins>")
    return " ".join(left), " ".join(right)


def pair_html(records: pd.DataFrame, id1: str, id2: str, *,
              pairs: pd.DataFrame | None = None) -> str:
    """Side-by-side HTML of two records, word differences highlighted.

    Parameters
    ----------
    records : pandas.DataFrame
        Records-contract frame holding both records.
    id1, id2 : str
        Their ``record_id`` values.
    pairs : pandas.DataFrame, optional
        ``DedupResult.pairs``; when given, the pair's score, decision and reason are shown.

    Returns
    -------
    str
        An HTML fragment (a table); display it with ``IPython.display.HTML``.
    """
    ids = records["record_id"].astype("string")
    missing = [i for i in (id1, id2) if not (ids == str(i)).any()]
    if missing:
        raise ContractError(f"pair_html: record_id {missing} not found among the records")
    a = records[ids == str(id1)].iloc[0]
    b = records[ids == str(id2)].iloc[0]
    rows = [f"<tr><th></th><th>{html.escape(str(id1))}</th><th>{html.escape(str(id2))}</th></tr>"]
    for field in _FIELDS:
        if field not in records.columns:
            continue
        va, vb = _text(a[field]), _text(b[field])
        if not va and not vb:
            continue
        if va == vb:
            cell = f"<td class='es-same'>{html.escape(va)}</td>"
            rows.append(f"<tr><th>{field}</th>{cell}{cell}</tr>")
        else:
            da, db = _diff(va, vb)
            rows.append(f"<tr><th>{field}</th><td>{da}</td><td>{db}</td></tr>")
    head = ""
    if pairs is not None:
        hit = pairs[((pairs["record_id_1"] == str(id1)) & (pairs["record_id_2"] == str(id2)))
                    | ((pairs["record_id_1"] == str(id2)) & (pairs["record_id_2"] == str(id1)))]
        if len(hit):
            p = hit.iloc[0]
            head = (f"<p>score {p['score']:.3f} · decision <b>{html.escape(str(p['decision']))}"
                    f"</b> · {html.escape(str(p['reason']))}</p>")
    return f"{_STYLE}<div class='es-pair'>{head}<table>{''.join(rows)}</table></div>"
