"""summarize_runs over the matching runs' summary rows: distinct values, metric ranges, statuses.

Distinct values are counted as Python compares them (1 and 1.0 are one value, as the filter
``params.x = 1`` matches both; NaN is one value; lists and dicts by their JSON text).
"""

from __future__ import annotations

import json
from collections import Counter
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Sequence

from .summary import decode_bodies, no_cyclic_gc

if TYPE_CHECKING:  # pragma: no cover
    from .query import RunsSummary


def _by_key(mappings: list[dict]) -> dict[str, Sequence]:
    """Each key's values across ``mappings`` (in their order; a mapping without the key adds none)."""
    keys = list(set().union(*mappings))
    if len(keys) > 1:
        try:  # most keys are in every run: one C-level pass, each run's values as a tuple
            return dict(zip(keys, zip(*map(itemgetter(*keys), mappings))))
        except KeyError:
            pass
    return {key: [m[key] for m in mappings if key in m] for key in keys}


def distinct_count(values: Sequence[Any]) -> int:
    """The number of distinct values (NaN is one value: decode_bodies gives every NaN param the
    same float object; lists and dicts compared as JSON)."""
    try:
        return len(set(values))
    except TypeError:  # lists or dicts among them
        return len({json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v for v in values})


def _range(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    ranked = [v for v in values if v is not None]  # a NaN metric (None) is not a value to rank
    return (min(ranked), max(ranked)) if ranked else (None, None)


def summarize_bodies(rows: list[tuple[str, str | None]]) -> "RunsSummary":
    """The summary of runs given as (status, summary body) rows."""
    from .query import RunsSummary

    statuses = dict(Counter(row[0] for row in rows))
    with no_cyclic_gc():  # every object made here is freed here, before the collector runs again
        docs = decode_bodies([row[1] for row in rows])
        params = {key: distinct_count(v) for key, v in _by_key([d["p"] for d in docs]).items()}
        metrics = {key: _range(v) for key, v in _by_key([d["m"] for d in docs]).items()}
        tags = {key: distinct_count(v) for key, v in _by_key([d["t"] for d in docs]).items()}
        del docs
    return RunsSummary(len(rows), params, metrics, tags, statuses)
