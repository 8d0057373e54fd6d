"""Which store holds a run the caller names (a Run, a RunRecord, or an id or unique prefix)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore


def current_store() -> "SqlStore":
    """The current store, after writing what this process buffered (so it reads its own runs)."""
    from ..api import _store_for_reading

    return _store_for_reading()


def store_and_run_id(run: Any) -> tuple["SqlStore", str]:
    """The store holding ``run`` and its id as given (a prefix is resolved by the store later).

    A Run of this process is flushed first: what it logged must be in the store to be pointed at.
    """
    from .. import config
    from ..run import Run
    from ..store.records import RunRecord

    if isinstance(run, Run):
        if run.pid == os.getpid():
            run.flush()
        return config.store_for(run.store_uri), run.run_id
    if isinstance(run, RunRecord):
        return run.store, run.run_id
    if isinstance(run, str):
        return current_store(), run
    raise TypeError(f"run must be a Run, a RunRecord or a run id, not {type(run).__name__}")
