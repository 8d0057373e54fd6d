"""Hidden-state report: what in the kernel's state may not match the notebook as it reads.

Pure functions over plain data (the notebook's cells and the kernel's execution history),
so they are cheap to test. The report lists:

- ``out_of_order``: cells above the tracked one whose last execution came after that of a
  cell below them;
- ``modified``: cells whose current source differs from what the kernel last executed;
- ``never_executed``: code cells above the tracked one never executed in this kernel;
- ``redefinitions``: names the tracked cell uses that several cells defined, with where the
  value the kernel holds came from;
- ``deleted``: executions whose cell is no longer in the notebook.

``warnings`` holds the findings that can change what the tracked cell computed;
``matters`` is True when there is at least one.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from .cellparams import parse_cell

_BUILTINS = frozenset(dir(builtins)) | {"get_ipython", "display", "In", "Out", "exit", "quit"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Cell:
    """A notebook cell as the snapshot has it."""

    index: int
    cell_type: str
    source: str
    id: str | None = None


@dataclass(frozen=True)
class Execution:
    """One code cell execution in this kernel."""

    execution_count: int
    source: str
    cell_id: str | None = None


def _stored_names(node: ast.AST, out: set[str]) -> None:
    """Names bound by ``node`` in the module scope (not inside functions, classes, lambdas)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        out.add(node.name)
        for decorator in node.decorator_list:
            _stored_names(decorator, out)
        return
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            if alias.name != "*":
                out.add(alias.asname or alias.name.split(".")[0])
        return
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        out.add(node.id)
        return
    if isinstance(node, _SCOPES):
        return
    for child in ast.iter_child_nodes(node):
        _stored_names(child, out)


def _loaded_names(node: ast.AST) -> set[str]:
    """Free names ``node`` reads (a function's or comprehension's own names excluded)."""
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    loads: set[str] = set()
    for child in ast.iter_child_nodes(node):
        loads |= _loaded_names(child)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = node.args
        local = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
        local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        loads -= local
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        loads -= {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
    return loads


@lru_cache(maxsize=4096)
def names_of(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """(names the cell defines at top level, names it uses from earlier state)."""
    tree = parse_cell(source)
    if tree is None:
        return frozenset(), frozenset()
    defined: set[str] = set()
    used: set[str] = set()
    for statement in tree.body:
        loads = _loaded_names(statement)
        if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            loads.add(statement.target.id)
        used |= loads - defined
        _stored_names(statement, defined)
    return frozenset(defined), frozenset(used - _BUILTINS)


def _norm(source: str) -> str:
    return source.strip()


def _match(cells: list[Cell], history: list[Execution]) -> dict[int, int | None]:
    """Map each execution (by position in history) to a notebook cell index or None.

    Cell ids decide where known; otherwise an exact source match.
    """
    by_id = {cell.id: cell.index for cell in cells if cell.id and cell.cell_type == "code"}
    by_source: dict[str, int] = {}
    for cell in cells:
        if cell.cell_type == "code":
            by_source.setdefault(_norm(cell.source), cell.index)
    matched: dict[int, int | None] = {}
    for position, execution in enumerate(history):
        if execution.cell_id and execution.cell_id in by_id:
            matched[position] = by_id[execution.cell_id]
        elif execution.cell_id and by_id:
            matched[position] = None  # an id the notebook no longer has: the cell was deleted
        else:
            matched[position] = by_source.get(_norm(execution.source))
    return matched


def _ref(cell: Cell, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"index": cell.index, "id": cell.id}
    if count is not None:
        out["execution_count"] = count
    return out


def analyze(cells: Iterable[Cell], history: Iterable[Execution], tracked_index: int | None,
            tracked_source: str) -> dict[str, Any]:
    """Build the hidden-state report for the cell at ``tracked_index`` that ran ``tracked_source``.

    ``history`` is in execution order and should not include the tracked execution itself.
    """
    cells = list(cells)
    history = list(history)
    by_index = {cell.index: cell for cell in cells}
    matched = _match(cells, history)
    limit = tracked_index if tracked_index is not None else len(cells)
    _, used = names_of(tracked_source)

    last_run: dict[int, int] = {}  # cell index -> position in history of its last execution
    for position in range(len(history)):
        index = matched[position]
        if index is not None:
            last_run[index] = position

    out_of_order = []
    lowest_below = None
    for index in sorted((i for i in last_run if i < limit), reverse=True):
        position = last_run[index]
        if lowest_below is not None and position > lowest_below:
            out_of_order.append(_ref(by_index[index], history[position].execution_count))
        lowest_below = position if lowest_below is None else min(lowest_below, position)
    out_of_order.reverse()

    modified = [_ref(by_index[index], history[position].execution_count)
                for index, position in sorted(last_run.items())
                if index != tracked_index and _norm(history[position].source) != _norm(by_index[index].source)]

    never_executed = []
    for cell in cells:
        if cell.index >= limit or cell.cell_type != "code" or not cell.source.strip() or cell.index in last_run:
            continue
        defined, _ = names_of(cell.source)
        never_executed.append(dict(_ref(cell), defines=sorted(defined & used)))

    deleted = [history[p].execution_count for p in range(len(history)) if matched[p] is None]

    # where each used name's current value came from vs. where the notebook says it comes from
    definers: dict[str, list[int]] = {}
    for position, execution in enumerate(history):
        defined, _ = names_of(execution.source)
        for name in defined & used:
            definers.setdefault(name, []).append(position)
    notebook_definer: dict[str, int] = {}
    for cell in cells:
        if cell.index < limit and cell.cell_type == "code":
            for name in names_of(cell.source)[0] & used:
                notebook_definer[name] = cell.index
    redefinitions = []
    warnings = []
    for name in sorted(definers):
        positions = definers[name]
        cell_keys = {matched[p] if matched[p] is not None else ("src", _norm(history[p].source)) for p in positions}
        last = positions[-1]
        source_index = matched[last]
        expected = notebook_definer.get(name)
        stale = source_index is None or source_index != expected or (
            source_index in by_index and _norm(history[last].source) != _norm(by_index[source_index].source))
        if len(cell_keys) > 1 or stale:
            redefinitions.append({
                "name": name,
                "execution_counts": [history[p].execution_count for p in positions],
                "last_defined_in": {"execution_count": history[last].execution_count, "index": source_index},
                "notebook_defines_in": expected,
                "matches_notebook": not stale,
            })
            edited_in_place = source_index is not None and source_index == expected
            if stale and not edited_in_place:  # an edited cell in its place: "edited after it ran" says it
                where = "a deleted or changed cell" if source_index is None else f"cell {source_index}"
                warnings.append(f"'{name}' comes from {where} (In [{history[last].execution_count}]), "
                                f"not from the notebook order")

    relevant_modified = [m for m in modified if m["index"] < limit and names_of(by_index[m["index"]].source)[0] & used]
    for item in relevant_modified:
        warnings.append(f"cell {item['index']} was edited after it ran (In [{item['execution_count']}])")
    for item in never_executed:
        if item["defines"]:
            warnings.append(f"cell {item['index']} above was never run but defines {', '.join(item['defines'])}")
    for item in out_of_order:
        rerun = item["index"]
        changed = names_of(by_index[rerun].source)[0]
        for index, position in sorted(last_run.items()):
            if not rerun < index < limit or position > last_run[rerun]:
                continue
            defines, uses = names_of(history[position].source)
            stale_inputs = sorted(uses & changed)
            if stale_inputs and (defines & used or not defines):
                warnings.append(f"cell {index} ran before cell {rerun} was re-run, with old "
                                f"{', '.join(stale_inputs)}")

    return {
        "tracked_cell": tracked_index,
        "uses": sorted(used),
        "out_of_order": out_of_order,
        "modified": modified,
        "never_executed": never_executed,
        "redefinitions": redefinitions,
        "deleted": deleted,
        "warnings": warnings,
        "matters": bool(warnings),
    }
