"""Unified diff of two runs' notebook snapshots; cells are matched by id where ids exist."""

from __future__ import annotations

import difflib
from typing import Any

from .stored_snapshot import StoredSnapshot, read_snapshot


def _cell_lines(snapshot: StoredSnapshot) -> tuple[list[str], bool]:
    """The snapshot as lines, one header per cell (with its id when every cell has one)."""
    by_id = bool(snapshot.cells) and all(cell.id for cell in snapshot.cells)
    lines: list[str] = []
    for cell in snapshot.cells:
        kind = "" if cell.cell_type == "code" else f" [{cell.cell_type}]"
        lines.append(f"# %%{kind} id={cell.id}\n" if by_id else f"# %%{kind}\n")
        lines.extend(line + "\n" for line in cell.source.replace("\r\n", "\n").split("\n"))
        lines.append("\n")
    return lines, by_id


def _label(record: Any, document: dict) -> str:
    return f"run {record.run_id[:8]} ({record.name}) {document.get('path') or ''}".rstrip()


def source_diff(run_a: Any, run_b: Any) -> str:
    """A unified diff from run ``run_a``'s notebook snapshot to ``run_b``'s ("" if equal).

    Runs are ids, unique prefixes or records. When both snapshots know their cell ids,
    each cell header shows its id, so cells line up by id.
    """
    import nbtrack

    record_a = nbtrack.get_run(run_a) if isinstance(run_a, str) else run_a
    record_b = nbtrack.get_run(run_b) if isinstance(run_b, str) else run_b
    snap_a, snap_b = read_snapshot(record_a), read_snapshot(record_b)
    lines_a, by_id_a = _cell_lines(snap_a)
    lines_b, by_id_b = _cell_lines(snap_b)
    if by_id_a != by_id_b:  # compare like with like
        snap_a.cells = [type(c)(c.cell_type, c.source) for c in snap_a.cells]
        snap_b.cells = [type(c)(c.cell_type, c.source) for c in snap_b.cells]
        lines_a, _ = _cell_lines(snap_a)
        lines_b, _ = _cell_lines(snap_b)
    diff = difflib.unified_diff(lines_a, lines_b, fromfile=_label(record_a, snap_a.document),
                                tofile=_label(record_b, snap_b.document))
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
