"""Writes the snapshot round-trip corpus (run from this folder: ``python make_corpus.py``).

Notebooks written for the tests, each with a ``%%track`` cell (id ``tracked``), covering the
cell shapes real notebooks have: magics, raw and markdown cells, ``# %%`` lines inside code,
whitespace-only lines, CRLF, unicode, trailing blank lines, rich cell and notebook metadata.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
TRACKED = "%%track experiment=corpus\nlr = 0.1\n    \nscore = lr * 2\n"
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
          "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python",
                            "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}}}

NOTEBOOKS: dict[str, list[tuple[str, str, str, dict]]] = {
    "spyder_markers": [
        ("code", "imports", "import math\n# %% a Spyder cell marker inside a cell\nx = math.pi\n", {}),
        ("code", "marker-md", "# %% [markdown]\ny = 2  # looks like a markdown marker\n", {}),
        ("code", "tracked", TRACKED, {}),
    ],
    "whitespace_and_ends": [
        ("code", "ws", "a = 1\n    \n\t\nb = 2", {}),
        ("code", "final-newline", "c = 3\n", {}),
        ("code", "trailing-blank", "d = 4\n\n\n", {}),
        ("code", "crlf", "e = 5\r\nf = 6\r\n", {}),
        ("code", "empty", "", {}),
        ("code", "tracked", TRACKED, {}),
    ],
    "magics_and_raw": [
        ("code", "line-magic", "%matplotlib inline\n!echo hi\nvalue = 1\n", {}),
        ("code", "cell-magic", "%%capture out\nprint('hidden')\n", {}),
        ("raw", "raw-1", "raw text\n# %% not a marker\n", {"format": "text/restructuredtext"}),
        ("markdown", "md-1", "# Title\n\n* item\n\n```python\n# %%\n```\n", {}),
        ("code", "tracked", TRACKED, {}),
    ],
    "unicode_and_metadata": [
        ("markdown", "md-u", "Données · 数据 · 🚀\n", {"tags": ["intro"]}),
        ("code", "u", "name = 'café ☕'\nprint(name)  # ünïcode\n",
         {"collapsed": True, "scrolled": True, "tags": ["parameters"],
          "ExecuteTime": {"end_time": "2024-01-01T10:00:01.000Z", "start_time": "2024-01-01T10:00:00.000Z"}}),
        ("code", "jupyter-meta", "z = 0\n", {"jupyter": {"source_hidden": True}, "custom": {"k": [1, 2]}}),
        ("code", "tracked", TRACKED, {"tags": ["train"]}),
    ],
    "percent_header_lookalike": [
        ("code", "yaml", "# ---\n# jupyter:\n#   not: a header\n# ---\nq = 1\n", {}),
        ("code", "comment-magic", "# %%track experiment=x\nr = 2\n", {}),
        ("code", "tracked", TRACKED, {}),
    ],
}
EXTRA_METADATA = {"unicode_and_metadata": {"interpreter": {"hash": "abc123"}, "custom_key": {"nested": ["é", 1]}}}


def write_all() -> list[Path]:
    paths = []
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata.update(KERNEL)
        nb.metadata.update(EXTRA_METADATA.get(name, {}))
        makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                  "raw": nbformat.v4.new_raw_cell}
        nb.cells = [makers[kind](source, id=cell_id, metadata=metadata) for kind, cell_id, source, metadata in cells]
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all():
        print(written.name)
