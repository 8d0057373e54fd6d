"""Write small notebooks with fixed cell ids for the tests."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, cells: list[tuple[str, str, str]]) -> Path:
    """``cells``: (cell_type, id, source). Returns the path."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
              "raw": nbformat.v4.new_raw_cell}
    nb.cells = [makers[kind](source, id=cell_id) for kind, cell_id, source in cells]
    nbformat.write(nb, str(path))
    return path
