"""Which runs a read is about: experiments, the user's filter string and structured parameters.

The layers (dashboard, frontend, notebook) select runs with the structured parameters
(``run_ids``, ``statuses``, ``tags``, ``notebook``, ``top_level``, ``parent_run_ids``,
``include_deleted``);
the filter string is the user's and is parsed, never composed by code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import exists, not_, select
from sqlalchemy.sql.elements import ColumnElement

from ..statuses import STATUSES
from ..systemtags import NOTEBOOK_TAG
from . import schema as s
from .compile import compile_filter, in_values
from .filters import Node, parse_filter


def _names(value: str | Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{what} must be a string or a list of strings, got {type(item).__name__}")
    return items


@dataclass(frozen=True)
class RunSelection:
    """The runs a read covers. Build it with :meth:`build` (it checks and normalizes the arguments)."""

    experiments: tuple[str, ...] | None = None
    filter: str | None = None
    node: Node | None = None
    run_ids: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    tags: tuple[tuple[str, tuple[str, ...] | None], ...] = ()
    notebooks: tuple[str, ...] | None = None
    top_level: bool = False
    parent_run_ids: tuple[str, ...] | None = None
    include_deleted: bool = False

    @classmethod
    def build(cls, experiment: str | Iterable[str] | None = None, filter: str | None = None,
              include_deleted: bool = False, *, run_ids: str | Iterable[str] | None = None,
              statuses: str | Iterable[str] | None = None, tags: Mapping[str, Any] | None = None,
              notebook: str | Iterable[str] | None = None, top_level: bool = False,
              parent_run_ids: str | Iterable[str] | None = None) -> "RunSelection":
        if filter is not None and not isinstance(filter, str):
            raise TypeError(f"filter must be a string such as \"metrics.acc > 0.8\", got {type(filter).__name__}")
        chosen = _names(statuses, "statuses")
        if chosen is not None:
            chosen = tuple(status.upper() for status in chosen)
            unknown = [status for status in chosen if status not in STATUSES]
            if unknown:
                raise ValueError(f"unknown status {unknown[0]!r}; choose from {', '.join(STATUSES)}")
        return cls(
            experiments=_names(experiment, "experiment"),
            filter=filter or None,
            node=parse_filter(filter) if filter else None,
            run_ids=_names(run_ids, "run_ids"),
            statuses=chosen,
            tags=_tag_conditions(tags),
            notebooks=_names(notebook, "notebook"),
            top_level=bool(top_level),
            parent_run_ids=_names(parent_run_ids, "parent_run_ids"),
            include_deleted=bool(include_deleted),
        )

    def conditions(self, dialect: str) -> list[ColumnElement]:
        """WHERE conditions over ``runs`` joined to ``experiments``."""
        out = [compile_filter(self.node, self.filter or "", dialect)] if self.node is not None else []
        if self.experiments is not None:
            out.append(s.experiments.c.name.in_(self.experiments))
        if self.run_ids is not None:
            out.append(in_values(s.runs.c.run_id, list(self.run_ids), dialect))
        if self.statuses is not None:
            out.append(s.runs.c.status.in_(self.statuses))
        for key, values in self.tags:
            out.append(_tag_condition(key, values, dialect))
        if self.notebooks is not None:
            out.append(_tag_condition(NOTEBOOK_TAG, self.notebooks, dialect))
        if self.top_level:
            out.append(s.runs.c.parent_run_id.is_(None))
        if self.parent_run_ids is not None:
            out.append(in_values(s.runs.c.parent_run_id, list(self.parent_run_ids), dialect))
        if not self.include_deleted:
            out.append(s.runs.c.deleted.is_(False))
        return out


def _tag_conditions(tags: Mapping[str, Any] | None) -> tuple:
    """``{"stage": "prod"}`` (equal), ``{"stage": ["dev", "prod"]}`` (one of), ``{"stage": None}`` (no such tag)."""
    if tags is None:
        return ()
    if not isinstance(tags, Mapping):
        raise TypeError(f"tags must be a dict such as {{'stage': 'prod'}}, got {type(tags).__name__}")
    out = []
    for key, value in tags.items():
        if not isinstance(key, str):
            raise TypeError(f"tag keys are strings, got {key!r}")
        if value is None:
            out.append((key, None))
        elif isinstance(value, (list, tuple, set, frozenset)):
            out.append((key, tuple(str(v) for v in value)))
        else:
            out.append((key, (str(value),)))
    return tuple(out)


def _tag_condition(key: str, values: tuple[str, ...] | None, dialect: str) -> ColumnElement:
    base = (s.tags.c.run_id == s.runs.c.run_id, s.tags.c.key == key)
    if values is None:
        return not_(exists(select(s.tags.c.run_id).where(*base)))
    return exists(select(s.tags.c.run_id).where(*base, in_values(s.tags.c.value, list(values), dialect)))
