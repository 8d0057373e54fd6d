"""Run a cell body in the user's namespace the way IPython runs a cell.

The body goes through IPython's input transformers (``!ls``, ``%time`` work), is compiled
under the cell's own name (tracebacks read ``Cell In[N], line k`` with the cell's line
numbers) and runs with the shell's usual interactivity, so the last expression is shown as
``Out[N]``. Exceptions are shown by IPython as the normal traceback and returned.
"""

from __future__ import annotations

import ast
import sys
from typing import Any


def compile_body(shell: Any, body: str, raw_cell: str, header_lines: int = 1,
                 execution_count: int = 0) -> tuple[ast.Module, str]:
    """Transform and parse ``body`` under the name of cell ``In[execution_count]``; raises
    SyntaxError (and what IPython's transformers raise)."""
    import linecache

    transformed = "\n" * header_lines + shell.transform_cell(body)
    name = shell.compile.cache(transformed, execution_count, raw_code=raw_cell)
    entry = linecache.cache.get(name)
    if entry is not None:  # tracebacks show the cell's own magic lines (%%track ...), not blank ones
        header = [line + "\n" for line in raw_cell.split("\n")[:header_lines]]
        linecache.cache[name] = (entry[0], entry[1], header + list(entry[2][header_lines:]), entry[3])
    tree = shell.compile.ast_parse(transformed, filename=name)
    return shell.transform_ast(tree), name


def run_body(shell: Any, tree: ast.Module, name: str) -> BaseException | None:
    """Execute the parsed cell; IPython shows any traceback; returns the exception or None."""
    from IPython.core.interactiveshell import ExecutionResult

    result = ExecutionResult(None)
    try:
        _run_to_completion(shell.run_ast_nodes(tree.body, name, interactivity=shell.ast_node_interactivity,
                                               compiler=shell.compile, result=result))
    except TopLevelAwaitError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return error
    return result.error_in_exec


class TopLevelAwaitError(RuntimeError):
    """The cell awaited something: %%track runs cells synchronously."""


def _run_to_completion(coroutine: Any) -> Any:
    """Drive a coroutine that never suspends (IPython's run_ast_nodes for synchronous code)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    error = TopLevelAwaitError("top-level await is not supported inside %%track (move the await into a function "
                               "run with asyncio, or drop %%track from this cell)")
    # raised at the await, IPython shows it as the cell's error at that line (closing the coroutine
    # instead shows GeneratorExit tracebacks from inside IPython)
    for _ in range(3):
        try:
            coroutine.throw(error)
        except BaseException:  # noqa: BLE001 - StopIteration: IPython handled it; else it got past IPython
            break
    else:
        coroutine.close()
    raise error


def mark_cell_failed(shell: Any, error: BaseException) -> bool:
    """Make the cell being executed end in error (so "Run All" stops) without showing the
    traceback again. Returns False when no cell is being executed (a direct call)."""
    outer = getattr(shell.displayhook, "exec_result", None)
    if outer is None:
        return False
    if outer.error_in_exec is None:
        outer.error_in_exec = error
    return True
