"""Database URLs without their secrets, for messages, logs and reprs.

:func:`mask_url` is the one function that prints a store's URL; :func:`redact` cleans a
driver's message that may quote the URL. Both work on the text itself, not on a parsed
URL, so they also mask the shapes SQLAlchemy's parser reads differently from the person
who typed them (an ``@`` in a raw password) or rejects (a bad port).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"
#: Query parameters whose value is a secret (``?password=...``, ``sslpassword``, ...).
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)
#: ``key=value`` in a query string; a value ends where the next ``&key=`` starts, so a raw
#: ``&`` inside a secret does not end it.
_QUERY_PAIR = re.compile(r"([^&=]+)=(.*?)(?=&[^&=]+=|&?\Z)", re.DOTALL)


def mask_url(url: str) -> str:
    """The URL with every password replaced by ``***``; other text unchanged.

    The user information runs from ``://`` to the *last* ``@`` (a raw ``@`` in a password
    stays inside it), and its password from the first ``:`` on; an empty user
    (``postgresql://:secret@host/db``) is masked too. Query parameters named like a
    secret (``password``, ``sslpassword``, ``passfile`` ...) are masked. Plain paths (no
    ``://``) come back unchanged.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL or a file path.

    Returns
    -------
    str
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    user_info, at, tail = rest.rpartition("@")
    if at:
        user, colon, _ = user_info.partition(":")
        if "/" in user or "?" in user:  # the '@' is in a path or query, not user info
            tail = rest
        else:
            rest = f"{user}:{MASK}@" if colon else f"{user_info}@"
            return f"{scheme}://{rest}{_mask_query(tail)}"
    return f"{scheme}://{_mask_query(tail if at else rest)}"


def _mask_query(tail: str) -> str:
    head, question, query = tail.partition("?")
    if not question:
        return tail
    return f"{head}?" + _QUERY_PAIR.sub(
        lambda m: f"{m[1]}={MASK}" if _SECRET_KEY.search(m[1]) else m[0], query)


def url_secrets(url: str) -> list[str]:
    """The secrets in ``url`` as typed and percent-decoded (longest first)."""
    _, sep, rest = url.partition("://")
    if not sep:
        return []
    found = []
    user_info, at, tail = rest.rpartition("@")
    user, colon, password = user_info.partition(":")
    if at and colon and "/" not in user and "?" not in user:
        found.append(password)
    else:
        tail = rest
    _, _, query = tail.partition("?")
    found += [m[2] for m in _QUERY_PAIR.finditer(query) if _SECRET_KEY.search(m[1])]
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """``text`` (a driver's error message, say) with ``url`` masked and its secrets removed.

    Secrets of four characters or more are replaced wherever they appear; shorter ones
    only as part of the URL (replacing ``ab`` everywhere would garble the message).
    """
    text = text.replace(url, mask_url(url))
    for secret in url_secrets(url):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
        # SQLAlchemy reads 'ann:se@cret@host' as password 'se', host 'cret@host': the
        # driver then names that host; mask each tail of the password before an '@'
        tails = [secret[i + 1:] for i, char in enumerate(secret) if char == "@"]
        for tail in sorted(filter(None, tails), key=len, reverse=True):
            text = text.replace(f"{tail}@", f"{MASK}@")
    return text
