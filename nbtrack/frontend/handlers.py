"""Dispatch of frontend -> kernel envelopes: one ``match`` over the message type."""

from __future__ import annotations

import logging
import os
from typing import Any

from . import messages
from .channel import PROTOCOL_VERSION, Channel, send

log = logging.getLogger("nbtrack.frontend")

MAX_LISTED_RUNS = 200


def handle(channel: Channel, comm: Any, data: dict) -> None:
    """Handle one envelope. Requests always get a reply: the answer or an ``error``."""
    kind = data.get("type")
    match kind:
        case "hello":
            if isinstance(data.get("path"), str):
                channel.set_path(comm, data["path"])
            if isinstance(data.get("client"), str) and data["client"]:
                channel.claim(comm, data["client"])
            send(comm, {"type": "welcome", "version": PROTOCOL_VERSION})
        case "cell_scheduled":
            cell_id, notebook = data.get("cell_id"), data.get("notebook")
            if isinstance(cell_id, str) and isinstance(notebook, dict):
                path = data.get("path") if isinstance(data.get("path"), str) else channel.path_of(comm)
                channel.store_snapshot(cell_id, path or "", notebook)
        case "list_runs":
            _answer(comm, data, lambda: {"type": "runs", "runs": list_runs(
                data.get("path") or channel.path_of(comm))})
        case "get_run":
            _answer(comm, data, lambda: {"type": "run", "run": get_run(data.get("run_id"))})
        case _:
            if "request_id" in data:
                send(comm, messages.error(data["request_id"], f"unknown message type {kind!r}"))
            else:
                log.debug("nbtrack: ignoring frontend message %r", kind)


def list_runs(path: str | None) -> list[dict]:
    """This notebook's runs, newest first, as the Runs panel's items."""
    import nbtrack

    paths = messages.path_candidates(path, os.environ.get("JPY_SESSION_NAME"))
    if not paths:
        return []
    frame = nbtrack.runs(notebook=paths, order_by="start_time DESC", max_results=MAX_LISTED_RUNS)
    return messages.run_summaries(frame)


def get_run(run_id: Any) -> dict:
    import nbtrack

    if not isinstance(run_id, str) or not run_id:
        raise ValueError("get_run needs a run_id")
    return messages.run_details(nbtrack.get_run(run_id))


def _answer(comm: Any, data: dict, compute) -> None:
    request_id = data.get("request_id")
    try:
        reply = compute()
    except Exception as exc:  # the error goes to the frontend, never to the user's cell
        log.debug("nbtrack: %s failed", data.get("type"), exc_info=True)
        reply = messages.error(request_id, f"{type(exc).__name__}: {exc}")
    else:
        reply["request_id"] = request_id
    send(comm, reply)
