"""Which names of a cell are parameters, and how their values are recorded.

``params=auto`` takes the *top-level* assignments of literals: numbers (negative too),
strings, bools, None, and tuples, lists and dicts of those (``lr = 0.1``,
``layers = (64, 32)``, ``a = b = 1``, ``x, y = 1, 2``, ``lr: float = 0.1``).
"""

from __future__ import annotations

import ast
import math
from typing import Any

from ..secrets import redact_param

_MISSING = object()
MAX_REPR = 200


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, (bool, int, float, str))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float)) \
            and not isinstance(node.operand.value, bool)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_literal(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is not None and isinstance(key, ast.Constant) and isinstance(key.value, str)
                   for key in node.keys) and all(_is_literal(v) for v in node.values)
    return False


def _pairs(target: ast.AST, value: ast.AST) -> list[tuple[str, ast.AST]]:
    """(name, literal node) for a target = value pair, unpacking tuples of equal length."""
    if isinstance(target, ast.Name):
        return [(target.id, value)] if _is_literal(value) else []
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
            and len(target.elts) == len(value.elts) and not any(isinstance(t, ast.Starred) for t in target.elts):
        out: list[tuple[str, ast.AST]] = []
        for sub_target, sub_value in zip(target.elts, value.elts):
            out.extend(_pairs(sub_target, sub_value))
        return out
    return []


_CODE_CELL_MAGICS = ("track", "time", "capture", "prun")


def code_body(source: str) -> str:
    """The Python code of a cell: leading cell magics that run their body as code
    (``%%track``, ``%%time``, ``%%capture``, ``%%prun``) are dropped; their line is
    kept blank so line numbers stay the same."""
    lines = source.lstrip("\n").split("\n")
    dropped = len(source.split("\n")) - len(lines)
    index = 0
    while index < len(lines) and lines[index].startswith("%%") and \
            lines[index][2:].split(" ", 1)[0].strip() in _CODE_CELL_MAGICS:
        index += 1
    if index == 0:
        return source
    return "\n" * (dropped + index) + "\n".join(lines[index:])


def parse_cell(source: str) -> ast.Module | None:
    """Parse cell source (IPython syntax such as ``!ls`` or ``%time`` allowed); None if invalid."""
    source = code_body(source)
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, TypeError):
        return None


def literal_assignments(source: str) -> dict[str, Any]:
    """The top-level assignments of literals in ``source``: {name: literal value}, in order.

    A name assigned several times keeps its last literal value; private names
    (``_x``) are skipped. Returns {} when the source does not parse.
    """
    tree = parse_cell(source)
    if tree is None:
        return {}
    found: dict[str, Any] = {}
    for name, node in literal_nodes(tree):
        if name.startswith("_"):
            continue
        found.pop(name, None)
        found[name] = ast.literal_eval(node)
    return found


def literal_nodes(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(name, literal value node) of each top-level assignment of a literal in ``tree``, in order
    (``a = b = 1`` gives two; ``x, y = 1, 2`` gives each element)."""
    pairs: list[tuple[str, ast.AST]] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                pairs.extend(_pairs(target, statement.value))
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None and statement.simple:
            pairs.extend(_pairs(statement.target, statement.value))
    return pairs


def _json_able(value: Any, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return True
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return True
    if isinstance(value, (list, tuple)):
        return len(value) <= 1000 and all(_json_able(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 1000 and all(isinstance(k, str) and _json_able(v, depth + 1) for k, v in value.items())
    return False


def short_repr(value: Any, limit: int = MAX_REPR) -> str:
    """``repr(value)`` cut to ``limit`` characters (never raises)."""
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ must not break tracking
        text = f"<{type(value).__name__} (repr failed: {type(error).__name__})>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def param_value(value: Any) -> Any:
    """The value to record for a param: JSON-able values as such (numpy scalars as Python
    ones, tuples as lists), anything else as a short repr string."""
    if _json_able(value):
        if type(value).__module__ == "numpy":
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return value
        return value
    return short_repr(value)


def collect_params(spec: str | tuple[str, ...], source: str, namespace: dict[str, Any],
                   completed: bool = True) -> dict[str, Any]:
    """The params to record for a cell after it ran.

    ``spec`` is ``"auto"`` (literal assignments, with the value the name holds now),
    ``"none"``, or explicit names (recorded whatever they hold; undefined names skipped).
    Secret-looking strings are recorded as ``<redacted>``. When the cell did not complete, a
    literal whose name is not defined was never assigned and is not recorded.
    """
    if spec == "none":
        return {}
    if spec == "auto":
        values = {name: namespace.get(name, literal) for name, literal in literal_assignments(source).items()
                  if completed or name in namespace}
    else:
        values = {name: namespace[name] for name in spec if name in namespace}
    return {name: redact_param(name, param_value(value)) for name, value in values.items()}


def _store_counts(tree: ast.AST) -> dict[str, int]:
    """How many times each name is bound anywhere in ``tree`` (assignments, loops, imports, defs)."""
    counts: dict[str, int] = {}

    def bump(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bump(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bump(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bump((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bump(name)
    return counts


def params_known_at_start(spec: str | tuple[str, ...], source: str) -> dict[str, Any]:
    """The params a cell's source fixes before it runs (recorded in the ``cell`` document at
    once, so a kernel killed mid-cell keeps them): with ``params=auto``, the literals assigned
    to a name the cell binds exactly once. Empty when the cell logs params itself."""
    if spec != "auto" or "log_param" in source or "track(" in code_body(source):
        return {}
    tree = parse_cell(source)
    if tree is None:
        return {}
    counts = _store_counts(tree)
    return {name: redact_param(name, param_value(value)) for name, value in literal_assignments(source).items()
            if counts.get(name) == 1}
