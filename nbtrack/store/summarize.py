"""summarize_runs over the matching runs' summary rows: distinct values, metric ranges, statuses.

Distinct values are counted as Python compares them (1 and 1.0 are one value, as the filter
``params.x = 1`` matches both; NaN is one value; lists and dicts by their JSON text).
"""

from __future__ import annotations

import json
from collections import Counter
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .summary import decode_bodies

if TYPE_CHECKING:  # pragma: no cover
    from .query import RunsSummary


def _by_key(mappings: list[dict]) -> dict[str, list]:
    out = {}
    for key in set().union(*mappings):
        try:  # most keys are in every run: a C-level map
            out[key] = list(map(itemgetter(key), mappings))
        except KeyError:
            out[key] = [m[key] for m in mappings if key in m]
    return out


def distinct_count(values: list[Any]) -> int:
    """The number of distinct values (NaN is one value: decode_bodies gives every NaN param the
    same float object; lists and dicts compared as JSON)."""
    try:
        return len(set(values))
    except TypeError:  # lists or dicts among them
        return len({json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v for v in values})


def _range(values: list[float | None]) -> tuple[float | None, float | None]:
    ranked = [v for v in values if v is not None]  # a NaN metric (None) is not a value to rank
    return (min(ranked), max(ranked)) if ranked else (None, None)


def summarize_bodies(rows: list[tuple[str, str | None]]) -> "RunsSummary":
    """The summary of runs given as (status, summary body) rows."""
    from .query import RunsSummary

    statuses = dict(Counter(row[0] for row in rows))
    docs = decode_bodies([row[1] for row in rows])
    params = {key: distinct_count(v) for key, v in _by_key([d["p"] for d in docs]).items()}
    metrics = {key: _range(v) for key, v in _by_key([d["m"] for d in docs]).items()}
    tags = {key: distinct_count(v) for key, v in _by_key([d["t"] for d in docs]).items()}
    return RunsSummary(len(rows), params, metrics, tags, statuses)
