"""The statuses a run can have: the one list every layer uses."""

from __future__ import annotations

RUNNING = "RUNNING"
FINISHED = "FINISHED"
FAILED = "FAILED"
KILLED = "KILLED"

STATUSES: tuple[str, ...] = (RUNNING, FINISHED, FAILED, KILLED)
ENDED_STATUSES: tuple[str, ...] = (FINISHED, FAILED, KILLED)
