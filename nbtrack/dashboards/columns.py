"""Which columns the run table shows, how they sort, and which way each metric is better.

Column names are those of the ``runs()`` DataFrame: attributes (``run_id``, ``name``,
``status``, ...) and ``params.<k>``, ``metrics.<k>``, ``tags.<k>``.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from ..statuses import STATUSES  # noqa: F401 - re-exported for the widget and the state
from ..systemtags import SYSTEM_TAG_PREFIX

BASE_COLUMNS = ("run_id", "name", "status", "start_time", "duration")

# Words in a metric name that mean "lower is better".
_LOWER_WORDS = {
    "loss", "losses", "error", "errors", "err", "mse", "mae", "rmse", "rmsle", "mape", "smape",
    "nll", "perplexity", "ppl", "latency", "wer", "cer", "regret", "cost", "distance", "divergence",
    "kl", "bpd", "brier", "logloss", "fpr", "fnr", "runtime", "seconds", "elapsed",
}
_LOWER_SUBSTRINGS = ("loss", "error")
_TOKEN = re.compile(r"[a-z0-9]+")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.\-/:@]+\Z")


def guess_direction(metric: str) -> str:
    """Guess whether a metric is better high (``"max"``) or low (``"min"``) from its name.

    Names such as ``loss``, ``val_loss``, ``error_rate``, ``rmse`` or ``latency_ms`` are
    lower-is-better; everything else defaults to higher-is-better.
    """
    name = metric.lower()
    if name.startswith("metrics."):
        name = name[len("metrics."):]
    if any(part in name for part in _LOWER_SUBSTRINGS):
        return "min"
    tokens = _TOKEN.findall(re.sub(r"([a-z])([A-Z])", r"\1 \2", metric).lower())
    return "min" if any(token in _LOWER_WORDS for token in tokens) else "max"


def metric_directions(metrics: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Direction (``"max"``/``"min"``) of each metric key: ``overrides`` first, then the guess."""
    overrides = dict(overrides or {})
    out = {}
    for key in metrics:
        direction = overrides.get(key, overrides.get(f"metrics.{key}"))
        out[key] = direction if direction in ("max", "min") else guess_direction(key)
    return out


def kind_of(column: str) -> str:
    """``"params"``, ``"metrics"``, ``"tags"`` or ``"attributes"``."""
    head, _, rest = column.partition(".")
    return head if rest and head in ("params", "metrics", "tags") else "attributes"


def key_of(column: str) -> str:
    """The key of a ``params.``/``metrics.``/``tags.`` column, or the column itself."""
    return column.partition(".")[2] if kind_of(column) != "attributes" else column


def is_system_tag(column: str) -> bool:
    """True for ``tags.nbtrack.*`` columns, hidden unless asked for."""
    return kind_of(column) == "tags" and key_of(column).startswith(SYSTEM_TAG_PREFIX)


def available_columns(summary: Any, include_system: bool = False) -> list[str]:
    """Every choosable column of a ``RunsSummary``: params, metrics, then tags, each sorted."""
    params = [f"params.{k}" for k in sorted(getattr(summary, "params", {}) or {})]
    metrics = [f"metrics.{k}" for k in sorted(getattr(summary, "metrics", {}) or {})]
    tags = [f"tags.{k}" for k in sorted(getattr(summary, "tags", {}) or {})]
    if not include_system:
        tags = [c for c in tags if not is_system_tag(c)]
    return params + metrics + tags


def default_columns(summary: Any) -> list[str]:
    """The params that vary across the matching runs (more than one distinct value), then every
    metric but the ``system/`` ones (CPU, memory, GPU: offered in the chooser and the plots)."""
    params = getattr(summary, "params", {}) or {}
    varying = [f"params.{k}" for k in sorted(params) if (params[k] or 0) > 1]
    metrics = [f"metrics.{k}" for k in sorted(getattr(summary, "metrics", {}) or {}) if not k.startswith("system/")]
    return varying + metrics


def field_expr(column: str) -> str:
    """A column as a filter/order-by field: ``params.lr``, ``metrics.`val loss```, ``status``."""
    kind = kind_of(column)
    if kind == "attributes":
        return column
    key = key_of(column)
    if _PLAIN_KEY.match(key):
        return f"{kind}.{key}"
    return f"{kind}.`" + key.replace("`", "``") + "`"


def order_clause(column: str, descending: bool) -> str:
    """An order-by clause for ``runs(order_by=...)``."""
    return f"{field_expr(column)} {'DESC' if descending else 'ASC'}"


def column_label(column: str) -> str:
    """Short header text: the key of params/metrics/tags columns, the attribute otherwise."""
    return key_of(column) if kind_of(column) != "attributes" else column
