"""Extraction rows in the review store, edited under an optimistic version check."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..errors import StoreError
from . import schema
from ._database import Database, now
from ._decisions import require_reviewer


class ExtractionMixin(Database):
    """Evidence-table rows as extracted, for :class:`~evidence_synth.store.Review`."""

    def save_extraction_row(
        self,
        row_id: str,
        data: Mapping[str, Any],
        *,
        study_id: str,
        extractor: str,
        expected_version: int | None = None,
    ) -> int:
        """Insert or update an extraction row with an optimistic version check.

        Parameters
        ----------
        row_id : str
            Identifier of the evidence-table row.
        data : mapping
            The row (JSON-serialisable).
        study_id : str
        extractor : str
            Who extracted it.
        expected_version : int, optional
            For an update, the version the editor started from; a different stored
            version means someone else changed the row, and :class:`StoreError` is raised
            instead of overwriting. ``None`` inserts a new row (refused if it exists).

        Returns
        -------
        int
            The new version number.
        """
        require_reviewer(extractor)
        table = schema.extraction_rows
        content = json.dumps(dict(data), sort_keys=True, ensure_ascii=False, default=str)
        stamp = now()
        with self._begin() as conn:
            if expected_version is None:
                exists = conn.execute(sa.select(table.c.version).where(table.c.row_id == row_id))
                if exists.first() is not None:
                    raise StoreError(
                        f"extraction row {row_id!r} exists; pass expected_version to update it"
                    )
                conn.execute(table.insert().values(
                    row_id=row_id, study_id=study_id, extractor=extractor, version=1,
                    data=content, created_at=stamp, updated_at=stamp,
                ))
                return 1
            result = conn.execute(
                table.update()
                .where(table.c.row_id == row_id, table.c.version == expected_version)
                .values(data=content, extractor=extractor, study_id=study_id,
                        version=expected_version + 1, updated_at=stamp)
            )
            if result.rowcount != 1:
                current = conn.execute(
                    sa.select(table.c.version, table.c.extractor).where(table.c.row_id == row_id)
                ).first()
                found = "no such row" if current is None else (
                    f"version {current.version} by {current.extractor}"
                )
                raise StoreError(
                    f"extraction row {row_id!r}: edit conflict, expected version "
                    f"{expected_version}, found {found}; reload and apply your change again"
                )
        return expected_version + 1

    def extraction_rows(self) -> pd.DataFrame:
        """Stored extraction rows.

        Returns
        -------
        pandas.DataFrame
            Columns ``row_id, study_id, extractor, version, data`` (``data`` a dict),
            ``created_at, updated_at``.
        """
        table = schema.extraction_rows
        with self._connect() as conn:
            frame = pd.DataFrame(
                conn.execute(sa.select(table).order_by(table.c.row_id)).mappings().all(),
                columns=[c.name for c in table.columns],
            )
        frame["data"] = [json.loads(v) for v in frame["data"]]
        return frame
