"""``search_experiments``: MLflow's experiment filters and orders, on names and creation times.

The filter goes through nbtrack's filter parser (never into SQL); the few experiments of a
store are then matched in Python.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .entities import Experiment

FIELDS = {"name": "name", "experiment_id": "experiment_id", "creation_time": "creation_time",
          "last_update_time": "last_update_time"}


def _like(pattern: str, text: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _compare(node: Any, experiment: Experiment, value_of: Callable[[Any, str], Any] | None = None) -> bool:
    """Whether ``experiment`` matches the parsed filter; ``value_of(item, key)`` reads another kind of
    item (the model registry's searches: ``name``, ``run_id``), else the experiment's name is compared."""
    from ..store.filters import And, Compare, Not, Or

    if isinstance(node, And):
        return all(_compare(item, experiment, value_of) for item in node.items)
    if isinstance(node, Or):
        return any(_compare(item, experiment, value_of) for item in node.items)
    if isinstance(node, Not):
        return not _compare(node.item, experiment, value_of)
    assert isinstance(node, Compare)
    field = node.field
    if value_of is not None:
        value = value_of(experiment, field.key if field.entity == "attributes" else f"{field.entity}.{field.key}")
    elif field.entity != "attributes" or field.key not in ("name", "run_id"):
        from .unsupported import refuse

        refuse(f"search_experiments(filter_string=...{field.entity}.{field.key}...)",
               "filter experiments by name (name = 'x', name LIKE 'x%'); nbtrack experiments have no tags")
    else:
        value = experiment.name
    op = node.op
    if op == "=":
        result = value == node.value
    elif op == "!=":
        result = value != node.value
    elif op in ("LIKE", "ILIKE"):
        result = _like(str(node.value), value, op == "ILIKE")
    elif op == "IN":
        result = value in node.value
    elif op == "ISNULL":
        result = False
    else:
        result = {"<": value < str(node.value), "<=": value <= str(node.value), ">": value > str(node.value),
                  ">=": value >= str(node.value)}[op]
    return result != node.negate


def item_filter(filter_string: str | None, value_of: Callable[[Any, str], Any]) -> Callable[[Any], bool]:
    """A predicate for MLflow's filter on other items (registered models, model versions)."""
    from ..store.filters import parse_filter

    tree = parse_filter(filter_string)
    if tree is None:
        return lambda item: True
    return lambda item: _compare(tree, item, value_of)


def experiment_filter(filter_string: str | None) -> Callable[[Experiment], bool]:
    from ..store.filters import parse_filter

    tree = parse_filter(filter_string)
    if tree is None:
        return lambda experiment: True
    return lambda experiment: _compare(tree, experiment)


def order_experiments(experiments: list[Experiment], order_by: list[str] | None) -> list[Experiment]:
    """MLflow's default order is newest first; ``order_by`` takes name, experiment_id, creation_time."""
    if not order_by:
        return sorted(experiments, key=lambda e: (-(e.creation_time or 0), -int(e.experiment_id)))
    ordered = list(experiments)
    for clause in reversed(list(order_by)):
        parts = clause.split()
        key = parts[0].split(".")[-1].strip("`")
        if key not in FIELDS:
            raise ValueError(f"cannot order experiments by {parts[0]!r}; use one of {', '.join(FIELDS)}")
        descending = len(parts) > 1 and parts[1].upper() == "DESC"

        def sort_key(e: Experiment, key: str = key) -> Any:
            value = getattr(e, FIELDS[key])
            return int(value) if key == "experiment_id" else value

        ordered.sort(key=sort_key, reverse=descending)
    return ordered


