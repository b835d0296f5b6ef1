"""Evidence gap maps in the review store: import one, read its framework and codes back."""

from __future__ import annotations

import json
import os
import warnings
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from .. import columns as cols
from ..errors import DataQualityWarning, StoreError
from . import schema
from ._records import RecordsMixin, file_sha256, plain_rows, source_row, with_review_ids

if TYPE_CHECKING:
    from ..io import EvidenceMap


class MapsMixin(RecordsMixin):
    """Imported maps (records, framework, codes), for :class:`~evidence_synth.store.Review`."""

    def import_map(
        self,
        path: str | os.PathLike[str],
        *,
        database: str = "3ie evidence gap map",
        kind: str = "previous_version",
        platform: str | None = None,
        searched_on: str | date | None = None,
        query: str | None = None,
        source_id: str | None = None,
        imported_by: str | None = None,
        allow_duplicate: bool = False,
    ) -> EvidenceMap:
        """Import an evidence gap map: its studies, framework and codes, in one transaction.

        Parameters
        ----------
        path : path-like
            EPPI-Mapper HTML, EPPI-Reviewer JSON, 3ie DEP export or map JSON
            (see :func:`evidence_synth.io.read_egm`).
        database : str, default "3ie evidence gap map"
        kind : str, default "previous_version"
            For an updated review the earlier map is the previous version (PRISMA 2020).
        platform, searched_on, query, source_id, imported_by, allow_duplicate
            As :meth:`import_file`.

        Returns
        -------
        evidence_synth.io.EvidenceMap
            The map, with ``record_id`` values as stored in the review. EPPI-Reviewer
            outcomes (``.outcomes``) come with it but are not stored; turn them into
            evidence rows (:meth:`EvidenceTable.from_eppi_outcomes`) to keep them. When
            the review has a protocol, ``meta["crosswalk"]`` is the
            :class:`~evidence_synth.crosswalk.Crosswalk` of the map's nodes to the
            protocol's framework.

        Warns
        -----
        DataQualityWarning
            When codes of the map's rows or columns match no node of the protocol (their
            number, examples and the number of studies carrying them): those studies are
            listed as unmapped in the report. The warning is also kept in the source's notes.
        """
        from ..crosswalk import crosswalk
        from ..io import read_egm

        file = Path(path)
        digest = file_sha256(file)
        source_id = source_id or self._next_source_id(database)
        emap = read_egm(file)
        protocol = getattr(self, "protocol", None)  # the review's (ProtocolMixin)
        walk = crosswalk(emap, protocol) if protocol is not None else None
        if walk is not None and len(walk.unmatched):
            message = f"{file}: {walk.warning()}"
            emap.meta.setdefault("warnings", []).append(message)
            warnings.warn(message, DataQualityWarning, stacklevel=2)
        orphans = ~emap.codes[cols.RECORD_ID].isin(emap.records[cols.RECORD_ID])
        if orphans.any():  # a code needs its study in the store (foreign key)
            ids = sorted(set(emap.codes.loc[orphans, cols.RECORD_ID].astype(str)))
            message = (f"{file}: {int(orphans.sum())} code(s) of {len(ids)} stud(y/ies) that "
                       f"are not among the map's records ({', '.join(ids[:5])}) not stored")
            emap.meta.setdefault("warnings", []).append(message)
            warnings.warn(message, DataQualityWarning, stacklevel=2)
            emap.codes = emap.codes[~orphans].reset_index(drop=True)
        row = source_row(
            {"source_id": source_id, "kind": kind, "database": database,
             "platform": platform or emap.meta.get("format"), "query": query,
             "searched_on": None if searched_on is None else str(searched_on),
             "file_name": file.name, "file_sha256": digest,
             "format": emap.meta.get("format"), "imported_by": imported_by,
             "notes": json.dumps({"warnings": [str(w) for w in emap.meta.get("warnings", [])]},
                                 ensure_ascii=False)},
            n_records=len(emap.records),
        )
        frame = cols.validate_records(with_review_ids(emap.records, source_id))
        new_ids = dict(zip(emap.records[cols.RECORD_ID], frame[cols.RECORD_ID], strict=True))
        codes = emap.codes.assign(record_id=emap.codes["record_id"].map(new_ids))
        nodes = emap.framework.rename(columns={"order": "position"}).assign(source_id=source_id)
        node_columns = [c.name for c in schema.map_nodes.columns]
        with self._begin() as conn:
            self._check_new_source(conn, row, allow_duplicate=allow_duplicate)
            self._insert_source(conn, row)
            self._insert_records(conn, frame)
            if len(nodes):
                conn.execute(schema.map_nodes.insert(), plain_rows(
                    nodes, node_columns, what="map node", key="node_id"))
            if len(codes):
                conn.execute(schema.record_codes.insert(), plain_rows(
                    codes, ["record_id", "node_id", "additional_text", "known"],
                    what="record code", key="record_id"))
        emap.records = frame
        emap.codes = codes
        if emap.outcomes is not None:  # kept with the returned map, not in the store
            emap.outcomes = emap.outcomes.assign(
                record_id=emap.outcomes["record_id"].map(new_ids).astype("string"))
        if walk is not None:
            emap.meta["crosswalk"] = crosswalk(emap, protocol)  # with the stored record ids
        return emap

    def map_framework(self) -> pd.DataFrame:
        """Framework nodes of every imported map.

        Returns
        -------
        pandas.DataFrame
            Columns ``source_id, node_id, parent_id, label, kind, namespace, position,
            description``.
        """
        table = schema.map_nodes
        with self._connect() as conn:
            return pd.DataFrame(conn.execute(sa.select(table)).mappings().all(),
                                columns=[c.name for c in table.columns])

    def map_codes(self) -> pd.DataFrame:
        """Codes that imported maps give their records.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, node_id, additional_text, known``.
        """
        table = schema.record_codes
        query = sa.select(table.c.record_id, table.c.node_id, table.c.additional_text,
                          table.c.known).order_by(table.c.code_id)
        with self._connect() as conn:
            return pd.DataFrame(conn.execute(query).all(),
                                columns=["record_id", "node_id", "additional_text", "known"])

    def evidence_map(self, *, source_id: str | None = None) -> EvidenceMap:
        """Rebuild an imported map (records, framework, codes) from the store.

        Parameters
        ----------
        source_id : str, optional
            The map's source; default the only source holding a map framework.

        Returns
        -------
        evidence_synth.io.EvidenceMap
            With the review's record ids, as :meth:`import_map` returned it.
        """
        from ..io import EvidenceMap

        nodes = self.map_framework()
        owners = sorted(nodes["source_id"].unique())
        if source_id is None:
            if len(owners) != 1:
                raise StoreError(f"{len(owners)} imported maps ({owners}); name one with "
                                 "source_id=")
            source_id = owners[0]
        elif source_id not in owners:
            raise StoreError(f"source {source_id!r} holds no imported map (maps: {owners})")
        records = self.records(source_id=source_id)
        codes = self.map_codes()
        codes = codes[codes["record_id"].isin(set(records[cols.RECORD_ID]))]
        framework = (nodes[nodes["source_id"] == source_id].drop(columns="source_id")
                     .rename(columns={"position": "order"}).reset_index(drop=True))
        source = self.sources().set_index("source_id").loc[source_id]
        return EvidenceMap(records=records, framework=framework,
                           codes=codes.reset_index(drop=True),
                           meta={"source_id": source_id, "format": source["format"],
                                 "path": source["file_name"], "warnings": []})
