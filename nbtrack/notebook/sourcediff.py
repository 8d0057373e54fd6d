"""Unified diff of two runs' notebook snapshots; cells are matched by id where ids exist."""

from __future__ import annotations

import difflib
from typing import Any

from .checkout import snapshot_of


def _cell_lines(text: str, ids: list | None) -> tuple[list[str], bool]:
    """The snapshot as lines; with usable ids, each cell header carries its id."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    if not ids or len(ids) != len(nb.cells) or not all(ids):
        return text.splitlines(keepends=True), False
    lines: list[str] = []
    for cell, cell_id in zip(nb.cells, ids):
        kind = "" if cell.cell_type == "code" else f" [{cell.cell_type}]"
        lines.append(f"# %%{kind} id={cell_id}\n")
        lines.extend(line + "\n" for line in cell.source.split("\n"))
        lines.append("\n")
    return lines, True


def _label(record: Any, document: dict) -> str:
    return f"run {record.run_id[:8]} ({record.name}) {document.get('path') or ''}".rstrip()


def source_diff(run_a: Any, run_b: Any) -> str:
    """A unified diff from run ``run_a``'s notebook snapshot to ``run_b``'s ("" if equal).

    Runs are ids, unique prefixes or records. When both snapshots know their cell ids,
    each cell header shows its id, so cells line up by id; otherwise the jupytext texts
    are compared as they are.
    """
    record_a, text_a, doc_a = snapshot_of(run_a)
    record_b, text_b, doc_b = snapshot_of(run_b)
    lines_a, by_id_a = _cell_lines(text_a, doc_a.get("cell_ids"))
    lines_b, by_id_b = _cell_lines(text_b, doc_b.get("cell_ids"))
    if by_id_a != by_id_b:  # compare like with like
        lines_a, lines_b = text_a.splitlines(keepends=True), text_b.splitlines(keepends=True)
    diff = difflib.unified_diff(lines_a, lines_b, fromfile=_label(record_a, doc_a), tofile=_label(record_b, doc_b))
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
