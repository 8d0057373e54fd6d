"""Keys a filter names that no selected run has: ``metrics.acuracy > 0.8`` is a typo, not "0 runs".

:func:`unknown_keys` probes, for each params./metrics./tags. key of a filter, whether any run of
the selected experiments has it (one index probe per key), and for a missing one suggests the
closest key of the store (difflib). The key lists come from a skip scan of the key index (one
probe per distinct key, however many runs), so the check costs little at any store size.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import exists, literal_column, select, text
from sqlalchemy.engine import Connection

from . import schema as s
from .filters import And, Compare, Field, Node, Not, Or

if TYPE_CHECKING:  # pragma: no cover
    from .selection import RunSelection
    from .sql import SqlStore

_TABLES = {"params": s.params, "metrics": s.latest_metrics, "tags": s.tags}
MAX_LISTED_KEYS = 10_000  # keys read for suggestions, per table


class UnknownKeyWarning(UserWarning):
    """``runs()`` was given a filter naming a key that none of the selected runs has."""


@dataclass(frozen=True)
class UnknownKey:
    """A filter key no selected run has, where it is in the filter, and the closest existing key."""

    field: str  # "metrics.acuracy"
    position: int  # where the field starts in the filter text
    suggestion: str | None  # "metrics.accuracy", or None when nothing is close
    message: str


def filter_fields(node: Node | None) -> Iterator[Field]:
    """The params./metrics./tags. fields of a parsed filter, each key once, in the order written;
    ``x IS NULL`` asks for runs without the key on purpose and does not count."""
    seen: set[tuple[str, str]] = set()
    stack = [node] if node is not None else []
    fields = []
    while stack:
        item = stack.pop()
        if isinstance(item, (And, Or)):
            stack.extend(reversed(item.items))
        elif isinstance(item, Not):  # simplified trees hold Not only around comparisons
            if isinstance(item.item, Compare) and item.item.op == "ISNULL" and item.item.field.entity in _TABLES:
                stack.append(Compare(item.item.field, "ISNULL", None, not item.item.negate))
            else:
                stack.append(item.item)
        elif isinstance(item, Compare) and item.op == "ISNULL" and not item.negate:
            continue
        elif isinstance(item, Compare) and item.field.entity in _TABLES:
            if (item.field.entity, item.field.key) not in seen:
                seen.add((item.field.entity, item.field.key))
                fields.append(item.field)
    return iter(sorted(fields, key=lambda f: f.position))


def store_keys(connection: Connection, entity: str) -> list[str]:
    """Every distinct key of a table, read by a skip scan of its key index (one probe per key)."""
    name = _TABLES[entity].name
    walk = text(f'WITH RECURSIVE k(key) AS (SELECT MIN("key") FROM {name} UNION ALL '
                f'SELECT (SELECT MIN("key") FROM {name} WHERE "key" > k.key) FROM k WHERE k.key IS NOT NULL) '
                f"SELECT key FROM k WHERE key IS NOT NULL LIMIT {MAX_LISTED_KEYS}")
    return [row[0] for row in connection.execute(walk)]


def _has_key(connection: Connection, entity: str, key: str, selection: "RunSelection") -> bool:
    table = _TABLES[entity]
    runs = select(literal_column("1")).select_from(s.runs.join(
        s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id)).where(
        s.runs.c.run_id == table.c.run_id)
    if selection.experiments is not None:
        runs = runs.where(s.experiments.c.name.in_(selection.experiments))
    if not selection.include_deleted:
        runs = runs.where(s.runs.c.deleted.is_(False))
    probe = select(table.c.run_id).where(table.c.key == key, exists(runs)).limit(1)
    return connection.execute(probe).first() is not None


def unknown_keys(store: "SqlStore", selection: "RunSelection") -> list[UnknownKey]:
    """The filter's keys that no run of the selection's experiments has, with the closest existing key."""
    fields = list(filter_fields(selection.node))
    if not fields:
        return []
    names = selection.experiments
    where = ("experiment " + ", ".join(repr(e) for e in names)) if names else "the store"
    out = []
    with store.read() as connection:
        listed: dict[str, list[str]] = {}
        for field in fields:
            if _has_key(connection, field.entity, field.key, selection):
                continue
            if field.entity not in listed:
                listed[field.entity] = store_keys(connection, field.entity)
            close = closest_key(field.key, listed[field.entity])
            name = f"{field.entity}.{field.key}"
            suggestion = f"{field.entity}.{close}" if close else _same_key_elsewhere(connection, field, selection)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            out.append(UnknownKey(name, field.position, suggestion, f"no run in {where} has {name}{hint}"))
    return out


def _same_key_elsewhere(connection: Connection, field: Field, selection: "RunSelection") -> str | None:
    """``metrics.acc`` for ``params.acc``: the very key, logged as another kind."""
    for entity in _TABLES:
        if entity != field.entity and _has_key(connection, entity, field.key, selection):
            return f"{entity}.{field.key}"
    return None


def closest_key(key: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``key`` (difflib's ratio, case-insensitive, at least ``cutoff``), or
    None. Equal ratios go to the longer shared start: ``acuracy`` is closer to ``acc`` than to ``auc``."""
    lowered = key.lower()
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(lowered)
    best, best_score = None, 0.0
    for candidate in candidates:
        other = candidate.lower()
        matcher.set_seq1(other)
        if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
            continue
        ratio = matcher.ratio()
        if ratio < cutoff:
            continue
        shared = next((i for i, (a, b) in enumerate(zip(lowered, other)) if a != b), min(len(lowered), len(other)))
        score = ratio + 0.05 * min(shared, 3)
        if score > best_score:
            best, best_score = candidate, score
    return best
