"""summarize_runs over the matching runs' summary rows: distinct values, metric ranges, statuses.

Distinct values are counted as Python compares them (1 and 1.0 are one value, as the filter
``params.x = 1`` matches both; NaN is one value; lists and dicts by their JSON text).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from .summary import decode_bodies

if TYPE_CHECKING:  # pragma: no cover
    from .query import RunsSummary


def _by_key(mappings: list[dict]) -> dict[str, list]:
    keys: set[str] = set()
    for mapping in mappings:
        keys.update(mapping)
    return {key: [m[key] for m in mappings if key in m] for key in keys}


def distinct_count(values: list[Any]) -> int:
    """The number of distinct values (NaN counted once; lists and dicts compared as JSON)."""
    try:
        distinct = set(values)
    except TypeError:  # lists or dicts among them
        distinct = {json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v for v in values}
    nans = sum(1 for v in distinct if isinstance(v, float) and math.isnan(v))
    return len(distinct) - nans + (1 if nans else 0)


def _range(values: list[float]) -> tuple[float | None, float | None]:
    finite = [v for v in values if v == v]  # NaN is not a value to rank
    return (min(finite), max(finite)) if finite else (None, None)


def summarize_bodies(rows: list[tuple[str, str | None]]) -> "RunsSummary":
    """The summary of runs given as (status, summary body) rows."""
    from .query import RunsSummary

    statuses = dict(Counter(row[0] for row in rows))
    docs = decode_bodies([row[1] for row in rows])
    params = {key: distinct_count(v) for key, v in _by_key([d["p"] for d in docs]).items()}
    metrics = {key: _range(v) for key, v in _by_key([d["m"] for d in docs]).items()}
    tags = {key: distinct_count(v) for key, v in _by_key([d["t"] for d in docs]).items()}
    return RunsSummary(len(rows), params, metrics, tags, statuses)
