"""Helpers for the notebook tests: small notebooks with fixed cell ids, reading the store."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

import nbtrack

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """Text without terminal colours."""
    return ANSI.sub("", text)


def all_runs(**kwargs):
    """Runs in the test's store, oldest first."""
    frame = nbtrack.runs(order_by="start_time ASC", **kwargs)
    return [nbtrack.get_run(run_id) for run_id in frame["run_id"]]


def write_notebook(path: Path, cells: list[tuple[str, str, str]]) -> Path:
    """``cells``: (cell_type, id, source). Returns the path."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
              "raw": nbformat.v4.new_raw_cell}
    nb.cells = [makers[kind](source, id=cell_id) for kind, cell_id, source in cells]
    nbformat.write(nb, str(path))
    return path
