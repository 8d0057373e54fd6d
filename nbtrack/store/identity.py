"""Runs by the content hash of the cell that started them (the ``nbtrack.identity`` tag), for
``%%track``'s "don't train twice" look-up (nbtrack/notebook/reuse.py). One query on the partial
index ``ix_tags_identity`` (schema v7): its condition is written as a literal, which SQLite needs
to use a partial index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import literal_column, select

from ..systemtags import IDENTITY_TAG
from . import schema as s

if TYPE_CHECKING:
    from .sql import SqlStore


def finished_runs_with_identity(store: "SqlStore", identity: str, exclude: str | None = None,
                                limit: int = 5) -> list[str]:
    """Ids of FINISHED, not deleted runs tagged ``nbtrack.identity = identity``, newest first."""
    condition = literal_column(f"tags.key = '{IDENTITY_TAG}'")
    query = (select(s.runs.c.run_id)
             .select_from(s.tags.join(s.runs, s.runs.c.run_id == s.tags.c.run_id))
             .where(condition, s.tags.c.value == identity, s.runs.c.status == "FINISHED",
                    s.runs.c.deleted.is_(False))
             .order_by(s.runs.c.start_time.desc()).limit(limit + 1))
    with store.read() as connection:
        found = [row[0] for row in connection.execute(query)]
    return [run_id for run_id in found if run_id != exclude][:limit]
