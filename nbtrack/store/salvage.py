"""Writing a batch that holds rows the store can never accept, without losing the others.

Errors are transient (the store is unreachable, locked, read-only for now, out of disk: the data
is kept and written later) or permanent (a constraint a row can never satisfy, e.g. its run was
deleted and purged meanwhile, or a value the database refuses): the offending rows are isolated
and returned, and the rest of the batch is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .batch import Batch, row_key, row_run_id

if TYPE_CHECKING:  # pragma: no cover
    from .sql import SqlStore


@dataclass
class Rejected:
    """A row the store refused for good, and why."""

    part: str
    row: Any
    reason: str

    @property
    def run_id(self) -> str:
        return row_run_id(self.part, self.row)

    @property
    def key(self) -> str:
        return row_key(self.part, self.row)


def is_permanent(error: BaseException) -> bool:
    """Whether writing the same rows again can never succeed (an integrity or data error)."""
    from sqlalchemy.exc import DataError, IntegrityError

    return isinstance(error, (IntegrityError, DataError))


def write_salvaging(store: "SqlStore", batch: Batch) -> list[Rejected]:
    """Write ``batch``; if the store refuses some rows for good, write all the others.

    Transient errors propagate (nothing is lost: the caller keeps the batch). After a permanent
    one: runs are created one by one, the rows of runs the store does not have are rejected
    together, and what remains is split in halves until each refused row stands alone.
    """
    try:
        store.write_batch(batch)
        return []
    except Exception as error:
        if not is_permanent(error):
            raise
    rejected: list[Rejected] = []
    for create in batch.creates:
        rejected += _halve(store, [("creates", create)])
    items = [(part, row) for part, row in batch.items() if part != "creates"]
    present = store.existing_run_ids({row_run_id(part, row) for part, row in items})
    kept = []
    for part, row in items:
        if row_run_id(part, row) in present:
            kept.append((part, row))
        elif part != "heartbeats":
            rejected.append(Rejected(part, row, "the run is not in the store (deleted and purged by nbtrack gc?)"))
    return rejected + _halve(store, kept)


def _halve(store: "SqlStore", items: list[tuple[str, Any]]) -> list[Rejected]:
    if not items:
        return []
    try:
        store.write_batch(Batch.from_items(items))
        return []
    except Exception as error:
        if not is_permanent(error):
            raise
        if len(items) == 1:
            return [Rejected(items[0][0], items[0][1], _reason(error))]
    middle = len(items) // 2
    return _halve(store, items[:middle]) + _halve(store, items[middle:])


def _reason(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(getattr(error, 'orig', None) or error).__name__}: {text[0] if text else ''}".strip()
