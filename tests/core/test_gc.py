"""nbtrack gc keeps blobs a run is logging again."""

from __future__ import annotations

import nbtrack


def test_gc_keeps_an_old_blob_that_a_run_is_logging_again(isolated):
    """Content already stored (by a since-deleted run) kept its old mtime when logged again, so gc
    removed it in the moment before the new run's artifact row was written."""
    import os

    with nbtrack.track("gc") as old:
        nbtrack.log_artifact(b"weights", name="w.bin")
    nbtrack.delete_run(old.run_id)
    store = nbtrack.get_store()
    sha = nbtrack.get_run(old.run_id).artifact("w.bin").sha256
    assert store.collect_garbage(grace_seconds=3600)["runs_purged"] == 1  # the blob is young: kept
    assert store.blobs.exists(sha)
    os.utime(store.blobs.path(sha), (1_000_000, 1_000_000))
    assert store.blobs.put_bytes(b"weights")[0] == sha  # a new run logs the same content ...
    store.collect_garbage(grace_seconds=3600)  # ... and gc runs before its row is flushed
    assert store.blobs.exists(sha)
