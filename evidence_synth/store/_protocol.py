"""Protocol snapshots in the review store: the newest one is the review's protocol."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import sqlalchemy as sa

from . import schema
from ._database import Database, now

if TYPE_CHECKING:
    from ..protocol import Protocol


class ProtocolMixin(Database):
    """:meth:`set_protocol` and :attr:`protocol` of :class:`~evidence_synth.store.Review`."""

    def set_protocol(self, protocol: Protocol) -> None:
        """Store a snapshot of the protocol; the newest snapshot is the review's protocol."""
        content = json.dumps(protocol.to_dict(), sort_keys=True, ensure_ascii=False)
        with self._begin() as conn:
            conn.execute(
                schema.protocols.insert().values(
                    sha256=protocol.sha256,
                    content=content,
                    source_path=None if protocol.path is None else str(protocol.path),
                    loaded_at=now(),
                )
            )

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
