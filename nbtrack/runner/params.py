"""Parameters of a notebook: ``-p key=value`` parsing and overriding them in a notebook.

Used by ``nbtrack sweep`` (a grid of values) and ``nbtrack rerun -p`` (one value each).
How a notebook takes parameters (papermill's convention, then nbtrack's):

1. A code cell tagged ``parameters`` holds the defaults. The override is a new code cell
   inserted right after it, tagged ``injected-parameters``, assigning each value
   (``lr = 0.01``); the cell tagged ``parameters`` itself is unchanged. A name the
   parameters cell does not assign is still injected (as papermill does) and reported.
2. Without such a cell, the literal assignments of ``%%track`` cells are the parameters: in
   every ``%%track`` cell, each top-level assignment of a literal to a swept name (what
   ``params=auto`` records: ``lr = 0.1``, ``lr: float = 0.1``, the element of
   ``lr, depth = 0.1, 3``) gets the new value in place of the old literal; the rest of the
   line (comments included) stays. A name no ``%%track`` cell assigns a literal to is an error.

Values are Python literals (``0.1``, ``3``, ``True``, ``None``, ``'rf'``, ``[64, 32]``);
anything else is taken as a string (``-p model=rf`` is ``'rf'``).
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import NbtrackError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
INJECTED_ID = "injected-parameters"


class ParameterError(NbtrackError, ValueError):
    """A ``-p`` option or a notebook that cannot take the parameters."""


def parse_value(text: str) -> Any:
    """A Python literal, or the stripped text itself when it is not one."""
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def split_values(text: str) -> list[str]:
    """``text`` split on commas outside brackets and quotes (``0.1,[1, 2],'a,b'`` -> 3 items)."""
    items, depth, quote, start = [], 0, "", 0
    for position, char in enumerate(text):
        if quote:
            if char == quote and text[position - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            items.append(text[start:position])
            start = position + 1
    items.append(text[start:])
    return [item.strip() for item in items]


def _key_and_text(option: str) -> tuple[str, str]:
    key, sep, text = option.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ParameterError(f"-p {option!r}: write -p name=value (for a sweep: -p name=value1,value2)")
    if not key.isidentifier():
        raise ParameterError(f"-p {option!r}: {key!r} is not a Python variable name")
    return key, text


def parse_overrides(options: Iterable[str]) -> dict[str, Any]:
    """``["lr=0.1", "model=rf"]`` -> ``{"lr": 0.1, "model": "rf"}`` (one value per name)."""
    values: dict[str, Any] = {}
    for option in options:
        key, text = _key_and_text(option)
        if key in values:
            raise ParameterError(f"-p {key} is given twice")
        if not text.strip():
            raise ParameterError(f"-p {key}= needs a value")
        values[key] = parse_value(text)
    return values


def parse_grid(options: Iterable[str]) -> dict[str, list[Any]]:
    """``["lr=0.1,0.01", "depth=2,3"]`` -> ``{"lr": [0.1, 0.01], "depth": [2, 3]}``."""
    grid: dict[str, list[Any]] = {}
    for option in options:
        key, text = _key_and_text(option)
        if key in grid:
            raise ParameterError(f"-p {key} is given twice: list its values in one option (-p {key}=a,b)")
        items = split_values(text)
        if not text.strip() or any(not item for item in items):
            raise ParameterError(f"-p {option!r}: a value is empty (values are separated by commas)")
        grid[key] = [parse_value(item) for item in items]
    return grid


def combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid, the last name varying fastest (as nested loops would)."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


# --- overriding the parameters of a notebook -------------------------------------------


@dataclass
class Injection:
    """What :func:`inject` did: ``how`` is ``"parameters cell"`` or ``"%%track literals"``."""

    how: str
    cells: list[int] = field(default_factory=list)  # indices of the cells written or changed
    warnings: list[str] = field(default_factory=list)


def _tags(cell: Any) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [t for t in tags if isinstance(t, str)]


def _is_track_cell(source: str) -> bool:
    for line in source.lstrip().splitlines():
        if not line.startswith("%%"):
            return False
        if line[2:].split(" ", 1)[0].strip() == "track":
            return True
    return False


def _literal_targets(source: str) -> dict[str, list[ast.AST]]:
    """{name: [value nodes]} of the top-level literal assignments of a cell (as params=auto sees them);
    line numbers are the cell's (CRLF read as one line end)."""
    from ..notebook.cellparams import literal_nodes, parse_cell

    tree = parse_cell(source.replace("\r\n", "\n").replace("\r", "\n"))
    found: dict[str, list[ast.AST]] = {}
    for name, node in literal_nodes(tree) if tree is not None else []:
        found.setdefault(name, []).append(node)
    return found


def _replace_literals(source: str, values: dict[str, Any]) -> tuple[str, set[str]]:
    """``source`` with the literal assigned to each name of ``values`` replaced by its repr."""
    newline = "\r\n" if "\r\n" in source else "\n"
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    targets = {name: nodes for name, nodes in _literal_targets(source).items() if name in values}
    edits = [(node, repr(values[name])) for name, nodes in targets.items() for node in nodes]
    # ast offsets are UTF-8 byte columns; edit from the end so earlier offsets stay right
    for node, text in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        first, last = node.lineno - 1, node.end_lineno - 1
        head = lines[first].encode()[:node.col_offset].decode()
        tail = lines[last].encode()[node.end_col_offset:].decode()
        segment = lines[first].encode()[node.col_offset:node.end_col_offset].decode() if first == last else None
        if segment is not None and _literal_or_none(segment) != ast.literal_eval(node):
            raise ParameterError(f"could not find the literal {ast.unparse(node)} on line {node.lineno} "
                                 "of a %%track cell to replace it")
        lines[first:last + 1] = [head + text + tail]
    return newline.join(lines), set(targets)


def _literal_or_none(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None


def injected_source(values: dict[str, Any], note: str = "") -> str:
    """The source of the injected parameters cell."""
    header = "# Parameters injected by nbtrack" + (f" ({note})" if note else "")
    return "\n".join([header] + [f"{name} = {value!r}" for name, value in values.items()])


def inject(nb: Any, values: dict[str, Any], note: str = "") -> Injection:
    """Override the parameters of notebook ``nb`` (nbformat, changed in place) with ``values``.

    Raises :class:`ParameterError` when the notebook cannot take one of them (see the module
    docstring for the rules)."""
    import nbformat

    for value in values.values():
        _check_literal(value)
    cells = nb.cells
    marked = [i for i, cell in enumerate(cells) if cell.get("cell_type") == "code" and PARAMETERS_TAG in _tags(cell)]
    if marked:
        index = marked[0]
        defaults = set(_literal_targets(cells[index].get("source", "")))
        injection = Injection("parameters cell")
        unknown = [name for name in values if name not in defaults]
        if unknown:
            injection.warnings.append(f"the parameters cell (cell {index}) does not assign {', '.join(unknown)}: "
                                      "injected anyway")
        for later in range(index + 1, len(cells)):  # a %%track literal would undo the injected value
            cell = cells[later]
            if cell.get("cell_type") == "code" and _is_track_cell(cell.get("source", "")):
                undone = sorted(set(_literal_targets(cell.get("source", ""))) & set(values))
                if undone:
                    raise ParameterError(
                        f"cell {later} (%%track) assigns {', '.join(undone)} again after the parameters cell, "
                        "which would undo the injected value: assign it only in the cell tagged 'parameters'")
        replaces = index + 1 < len(cells) and INJECTED_TAG in _tags(cells[index + 1])
        if replaces:  # a sweep child re-run with -p: its other injected values stay
            values = {**_assigned_literals(cells[index + 1].get("source", "")), **values}
        cell = nbformat.v4.new_code_cell(injected_source(values, note), metadata={"tags": [INJECTED_TAG]})
        existing = {c.get("id") for c in cells}
        cell["id"] = INJECTED_ID if INJECTED_ID not in existing else f"{INJECTED_ID}-{len(cells)}"
        if replaces:
            cell["id"] = cells[index + 1].get("id") or cell["id"]
            cells[index + 1] = cell
        else:
            cells.insert(index + 1, cell)
        injection.cells.append(index + 1)
        return injection

    injection = Injection("%%track literals")
    assigned: set[str] = set()
    available: set[str] = set()
    for index, cell in enumerate(cells):
        source = cell.get("source", "")
        if cell.get("cell_type") != "code" or not _is_track_cell(source):
            continue
        available |= set(_literal_targets(source))
        changed, replaced = _replace_literals(source, values)
        if replaced:
            cell["source"] = changed
            assigned |= replaced
            injection.cells.append(index)
    missing = [name for name in values if name not in assigned]
    if missing:
        known = ", ".join(sorted(available)) or "none"
        raise ParameterError(
            f"no parameter {', '.join(missing)} in this notebook: no cell is tagged 'parameters' and no %%track "
            f"cell assigns a literal to it (the %%track cells' literals: {known}). Tag a cell 'parameters' "
            "or assign the name a literal in the %%track cell")
    return injection


def _assigned_literals(source: str) -> dict[str, Any]:
    """{name: value} of a cell's top-level literal assignments (the last one of a name wins)."""
    return {name: ast.literal_eval(nodes[-1]) for name, nodes in _literal_targets(source).items()}


def injected_values(nb: Any) -> dict[str, Any]:
    """The values the notebook's injected parameters cells assign: a sweep child's snapshot holds
    its combination's, which a re-run of it records as params again."""
    values: dict[str, Any] = {}
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and INJECTED_TAG in _tags(cell):
            values.update(_assigned_literals(cell.get("source", "")))
    return values


def _check_literal(value: Any) -> None:
    """A value that cannot be written back as a literal would inject broken code."""
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError):
        same = False
    if not same:
        raise ParameterError(f"{text} cannot be written into the notebook as a Python literal")
