"""Which notebook cell each execution in the kernel's history was.

Best first:

1. the cell id the frontend sent with the execution (JupyterLab); an id the notebook no
   longer has is a deleted cell;
2. the same source (after :func:`~.cellsource.normalize`; the same code under other
   ``%%track`` arguments counts); among identical cells, the one after the cell run before;
3. without an id (nbclient, papermill, ``nbtrack run``, VS Code), a *similar* source: the
   execution is an earlier version of a cell edited since. Similar means: the token
   sequences mostly agree (difflib ratio) and, when both bind names, they bind at least one
   in common (``a = 1`` is not an old ``b = 1``). Binding exactly the same names, being the
   cell right after the previously run one, and a current source that never ran count for it.

Anything else matches no cell: code typed in a cell deleted since.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Sequence

from .cellflow import cell_flow
from .cellparams import code_body
from .cellsource import normalize

SIMILAR = 0.6  # least similarity (with the bonuses below) to call an execution an old version of a cell
_NEXT_CELL_BONUS = 0.1
_UNRUN_BONUS = 0.05
_SAME_NAMES_BONUS = 0.15
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d*)?|\S")
_LAYOUT = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                     tokenize.ENDMARKER})


@dataclass(frozen=True)
class Match:
    """The notebook index an execution matched (None: no cell) and how (``id``, ``source``,
    ``similar``, ``deleted`` for an id the notebook lacks, or ``none``)."""

    index: int | None
    how: str


@lru_cache(maxsize=8192)
def normalized(source: str) -> str:
    """:func:`~.cellsource.normalize`, cached (the same sources are compared at every tracked cell)."""
    return normalize(source)


@lru_cache(maxsize=8192)
def normalized_code(source: str) -> str:
    """The normalized code without leading cell magics (``%%track`` arguments do not count)."""
    return normalize(code_body(source))


@lru_cache(maxsize=8192)
def _tokens(source: str) -> tuple[str, ...]:
    """The code's tokens, comments left out (IPython syntax that Python cannot tokenize: a rough split)."""
    code = normalized_code(source)
    try:
        return tuple(token.string for token in tokenize.generate_tokens(io.StringIO(code).readline)
                     if token.type not in _LAYOUT and token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return tuple(_TOKEN.findall(code))


@lru_cache(maxsize=16384)
def similarity(old: str, new: str) -> float:
    """How alike two cell sources are, 0..1 (0 when both bind names but none in common)."""
    a, b = _tokens(old), _tokens(new)
    if not a or not b:
        return 0.0
    bound_a, bound_b = cell_flow(old).bound, cell_flow(new).bound
    if bound_a and bound_b and not bound_a & bound_b:
        return 0.0
    bonus = _SAME_NAMES_BONUS if bound_a and bound_a == bound_b else 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() + bonus < SIMILAR - _NEXT_CELL_BONUS - _UNRUN_BONUS:
        return 0.0
    return min(1.0, matcher.ratio() + bonus)


def match_history(cells: Sequence, history: Sequence) -> list[Match]:
    """A :class:`Match` for each execution of ``history`` (``Execution``s, in order) against the
    notebook's ``cells`` (``Cell``s)."""
    code = [cell for cell in cells if cell.cell_type == "code"]
    by_id = {cell.id: cell.index for cell in code if cell.id}
    by_source: dict[str, list[int]] = {}
    by_code: dict[str, list[int]] = {}
    for cell in code:
        by_source.setdefault(normalized(cell.source), []).append(cell.index)
        body = normalized_code(cell.source)
        if body:
            by_code.setdefault(body, []).append(cell.index)

    matches: list[Match | None] = []
    previous: int | None = None
    for execution in history:
        match: Match | None
        if execution.cell_id and by_id:
            index = by_id.get(execution.cell_id)
            match = Match(index, "id") if index is not None else Match(None, "deleted")
        else:
            candidates = by_source.get(normalized(execution.source)) or \
                by_code.get(normalized_code(execution.source)) or []
            match = Match(_after(candidates, previous), "source") if candidates else None
        matches.append(match)
        if match is not None and match.index is not None:
            previous = match.index

    ran_as_is = {m.index for m in matches if m is not None and m.how in ("id", "source")}
    previous = None
    out: list[Match] = []
    for execution, match in zip(history, matches):
        if match is None:
            match = _similar(code, execution.source, previous, ran_as_is)
        out.append(match)
        if match.index is not None:
            previous = match.index
    return out


def _after(candidates: list[int], previous: int | None) -> int:
    """Among identical cells, the first one after the cell run before (else the first)."""
    if previous is not None:
        for index in candidates:
            if index > previous:
                return index
    return candidates[0]


def _similar(code: Sequence, source: str, previous: int | None, ran_as_is: set[int]) -> Match:
    best, best_score = None, 0.0
    for cell in code:
        score = similarity(source, cell.source)
        if not score:
            continue
        if previous is not None and cell.index == previous + 1:
            score += _NEXT_CELL_BONUS
        if cell.index not in ran_as_is:
            score += _UNRUN_BONUS
        if score > best_score:
            best, best_score = cell.index, score
    if best is not None and best_score >= SIMILAR:
        return Match(best, "similar")
    return Match(None, "none")
