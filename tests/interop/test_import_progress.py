"""The import progress bar: drawn on a terminal, never in a pipe or a log."""

from __future__ import annotations

import io
import os
import pty

from nbtrack.interop.progress import Progress


def test_progress_is_silent_when_not_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(3, "importing from mlflow", stream)
    for _ in range(3):
        progress.advance()
    progress.close()
    assert stream.getvalue() == ""


def test_progress_draws_on_a_terminal():
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as terminal:
        progress = Progress(4, "importing from mlflow", terminal)
        for _ in range(4):
            progress.advance()
        progress.close()
    chunks = []
    while True:  # everything written, until the closed terminal says so (EIO)
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    shown = b"".join(chunks).decode()
    assert "importing from mlflow [" in shown and "4/4" in shown and shown.endswith("\r\n")
