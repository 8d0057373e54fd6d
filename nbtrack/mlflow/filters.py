"""MLflow filter and order-by strings where MLflow means something nbtrack keeps elsewhere.

MLflow code filters on ``tags.mlflow.runName`` and ``tags.mlflow.parentRunId`` (nbtrack keeps
the run's name and parent as fields) and compares ``attributes.start_time`` / ``end_time`` with
milliseconds (nbtrack: seconds). The string is parsed once by nbtrack's filter parser, those
comparisons are rewritten, and the tree is written back as a filter string (values quoted again,
never pasted raw) for nbtrack's query layer.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..store.filters import And, Compare, Field, Not, Or, OrderKey, parse_filter, parse_order_by

AS_FIELDS = {("tags", "mlflow.runName"): "name", ("tags", "mlflow.parentRunId"): "parent_run_id"}
MILLISECOND_ATTRIBUTES = ("start_time", "end_time")


def _field(field: Field) -> Field:
    attribute = AS_FIELDS.get((field.entity, field.key))
    return Field("attributes", attribute, field.position) if attribute else field


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _millisecond(field: Field, op: str, value: Any) -> Any:
    """``field op value`` on a time MLflow keeps in whole milliseconds, over nbtrack's seconds:
    run times count as their millisecond (``start_time = 1700000000123`` matches a run that
    started at 1700000000.1234 s)."""
    low, high = value / 1000, (value + 1) / 1000
    if op == ">=":
        return Compare(field, ">=", low)
    if op == ">":
        return Compare(field, ">=", high)
    if op == "<":
        return Compare(field, "<", low)
    if op == "<=":
        return Compare(field, "<", high)
    within = And((Compare(field, ">=", low), Compare(field, "<", high)))
    return Not(within) if op == "!=" else within


def _rewrite(node: Any) -> Any:
    if isinstance(node, And):
        return And(tuple(_rewrite(item) for item in node.items))
    if isinstance(node, Or):
        return Or(tuple(_rewrite(item) for item in node.items))
    if isinstance(node, Not):
        return Not(_rewrite(node.item))
    field = _field(node.field)
    if field.entity == "attributes" and field.key in MILLISECOND_ATTRIBUTES:
        if node.op in ("=", "!=", "<", "<=", ">", ">=") and _is_number(node.value):
            return _millisecond(field, node.op, node.value)
        if node.op == "IN" and all(_is_number(v) for v in node.value):
            either = Or(tuple(_millisecond(field, "=", v) for v in node.value))
            return Not(either) if node.negate else either
    return Compare(field, node.op, node.value, node.negate)


def _name(field: Field) -> str:
    if field.entity == "attributes":
        return f"attributes.{field.key}"
    return f"{field.entity}.`{field.key.replace(chr(92), chr(92) * 2).replace('`', '``')}`"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _text(node: Any) -> str:
    if isinstance(node, And):
        return " AND ".join(f"({_text(item)})" for item in node.items)
    if isinstance(node, Or):
        return " OR ".join(f"({_text(item)})" for item in node.items)
    if isinstance(node, Not):
        return f"NOT ({_text(node.item)})"
    name, negation = _name(node.field), "NOT " if node.negate else ""
    if node.op == "ISNULL":
        return f"{name} IS {negation}NULL"
    if node.op == "IN":
        return f"{name} {negation}IN ({', '.join(_value(v) for v in node.value)})"
    if node.op in ("LIKE", "ILIKE"):
        return f"{name} {negation}{node.op} {_value(node.value)}"
    return f"{name} {node.op} {_value(node.value)}"


def nbtrack_filter(filter_string: str | None) -> str | None:
    """The nbtrack filter that means what the MLflow filter ``filter_string`` means."""
    tree = parse_filter(filter_string)
    return None if tree is None else _text(_rewrite(tree))


def nbtrack_order_by(order_by: Sequence[str] | str | None) -> list[str] | None:
    """MLflow order-by clauses with ``tags.mlflow.runName`` / ``parentRunId`` as nbtrack's fields."""
    if not order_by:
        return None
    keys: list[OrderKey] = parse_order_by(order_by)
    return [f"{_name(_field(key.field))} {'DESC' if key.descending else 'ASC'}" for key in keys]
