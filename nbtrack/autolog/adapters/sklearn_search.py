"""What a fitted hyperparameter search (GridSearchCV, RandomizedSearchCV, Halving*) adds to its run.

- params ``best_<name>`` for each of ``best_params_``; metric ``best_cv_score``;
- ``cv_results.csv``: every candidate, one row each (``cv_results_`` as a table);
- the best ``max_tuning_runs`` candidates (default 5, None for all) as child runs of the
  search's run, named ``<Estimator> rank <n>``, with the candidate's params and its numeric
  ``cv_results_`` columns (mean/std/split test scores, fit and score times, rank) as metrics.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..params import flatten

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session


def is_search(estimator: Any) -> bool:
    return hasattr(estimator, "cv_results_") and isinstance(getattr(estimator, "cv_results_", None), dict)


def log_search(session: "Session", search: Any, max_tuning_runs: int | None) -> None:
    results = search.cv_results_
    rank_key = _rank_key(search, results)
    best = getattr(search, "best_params_", None)
    if isinstance(best, dict):
        session.log_params({f"best_{k}": v for k, v in flatten(best, separator="__").items()})
    score = getattr(search, "best_score_", None)
    if score is not None:
        session.step("logging best_cv_score", lambda: session.log_metrics({"best_cv_score": float(score)}))
    session.step("logging cv_results.csv", lambda: session.log_artifact(_table(results), "cv_results.csv"))
    if max_tuning_runs != 0 and rank_key is not None:
        session.step("logging the search's child runs",
                     lambda: _child_runs(session, search, results, rank_key, max_tuning_runs))


def _rank_key(search: Any, results: dict) -> str | None:
    refit = getattr(search, "refit", True)
    if isinstance(refit, str) and f"rank_test_{refit}" in results:
        return f"rank_test_{refit}"
    if "rank_test_score" in results:
        return "rank_test_score"
    return next((key for key in results if key.startswith("rank_test_")), None)


def _table(results: dict) -> Any:
    import pandas as pd

    columns = {}
    for key, values in results.items():
        if key == "params":
            columns[key] = [json.dumps(p, default=repr, sort_keys=True) for p in values]
        elif key.startswith("param_"):
            columns[key] = [v if isinstance(v, (int, float, str, bool)) or v is None else repr(v) for v in values]
        else:
            columns[key] = list(values)
    return pd.DataFrame(columns)


def _child_runs(session: "Session", search: Any, results: dict, rank_key: str, limit: int | None) -> None:
    import nbtrack

    ranks = list(results[rank_key])
    order = sorted(range(len(ranks)), key=lambda i: ranks[i])
    if limit is not None:
        order = order[:limit]
    base = type(getattr(search, "estimator", search)).__name__
    metric_keys = [k for k in results if k != "params" and not k.startswith("param_")]
    tags = {**session.settings.extra_tags, "nbtrack.autolog": "sklearn", "nbtrack.autolog.search_rank": ""}
    for index in order:
        rank = int(ranks[index])
        tags["nbtrack.autolog.search_rank"] = str(rank)
        params = flatten(results["params"][index], separator="__")
        with nbtrack.track(name=f"{base} rank {rank}", tags=tags, nested=True) as child:
            child.log_params(params)
            child.log_metrics({key: _number(results[key][index]) for key in metric_keys
                               if _number(results[key][index]) is not None})


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN (a failed fold) is left out
