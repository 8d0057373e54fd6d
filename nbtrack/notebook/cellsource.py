"""Comparing cell sources the way IPython hands them over.

IPython gives a cell magic its body with whitespace-only lines emptied
(``'x = 1\\n    \\ny = 2'`` arrives as ``'x = 1\\n\\ny = 2'``), and a notebook saved on
Windows may hold CRLF line ends. Two sources are the same cell when they are equal after
the same normalisation. Used by the tracker, the snapshot and the hidden-state report.
"""

from __future__ import annotations

from .cellparams import code_body


def normalize(source: str) -> str:
    """``source`` with CRLF/CR as LF, whitespace-only lines emptied and outer blank space stripped."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join("" if not line.strip() else line.rstrip() for line in text.split("\n")).strip()


def same_source(a: str, b: str) -> bool:
    """Whether two cell sources are the same cell (after :func:`normalize`)."""
    return normalize(a) == normalize(b)


def same_code(a: str, b: str) -> bool:
    """Whether two cells run the same code: equal after dropping their leading code cell
    magics (``%%track``, ``%%time``, ...) and :func:`normalize`. Empty code never matches."""
    left = normalize(code_body(a))
    return bool(left) and left == normalize(code_body(b))
