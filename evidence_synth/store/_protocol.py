"""Protocol snapshots in the review store: the newest one is the review's protocol."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from . import schema
from ._database import Database, now

if TYPE_CHECKING:
    from ..protocol import Protocol


class ProtocolMixin(Database):
    """:meth:`set_protocol`, :meth:`protocol_files` and :attr:`protocol` of a Review."""

    def set_protocol(self, protocol: Protocol, *,
                     files: Mapping[str, tuple[str, str]] | None = None) -> None:
        """Store a snapshot of the protocol; the newest snapshot is the review's protocol.

        ``files`` maps a role (``protocol``, ``criteria``, ``rules``, ``form``,
        ``codebook``) to the path relative to the review's root folder and the text of
        the file, stored with the snapshot (see
        :meth:`evidence_synth.reviews.ReviewFiles.store`).
        """
        content = json.dumps(protocol.to_dict(), sort_keys=True, ensure_ascii=False)
        with self._begin() as conn:
            protocol_id = conn.execute(
                schema.protocols.insert().values(
                    sha256=protocol.sha256,
                    content=content,
                    source_path=None if protocol.path is None else str(protocol.path),
                    loaded_at=now(),
                )
            ).inserted_primary_key[0]
            rows = [{"protocol_id": protocol_id, "role": role, "path": path, "content": text,
                     "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
                    for role, (path, text) in sorted((files or {}).items())]
            if rows:
                conn.execute(schema.review_files.insert(), rows)

    def protocol_files(self) -> pd.DataFrame:
        """The files stored with the newest protocol snapshot.

        Returns
        -------
        pandas.DataFrame
            Columns ``role, path, sha256, content``; no rows when none were stored.
        """
        table = schema.review_files
        newest = sa.select(sa.func.max(schema.protocols.c.protocol_id)).scalar_subquery()
        query = (sa.select(table.c.role, table.c.path, table.c.sha256, table.c.content)
                 .where(table.c.protocol_id == newest).order_by(table.c.role))
        with self._connect() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=["role", "path", "sha256", "content"])

    @property
    def protocol(self) -> Protocol | None:
        """The newest protocol snapshot, or ``None`` when none was stored."""
        from ..protocol import Protocol

        query = sa.select(schema.protocols).order_by(schema.protocols.c.protocol_id.desc())
        with self._connect() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        if row is None:
            return None
        return Protocol.from_dict(json.loads(row["content"]))
