"""Pure helpers for the channel's envelopes: building replies, JSON-safe values, filters."""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import os
from typing import Any

from ..headline import HEADLINE_PREFERENCE, headline_key  # noqa: F401 - HEADLINE_PREFERENCE re-exported
from ..systemtags import CELL_TAG, SYSTEM_TAG_PREFIX


def headline_metric(metrics: dict[str, Any] | None) -> dict | None:
    """``{"key", "value"}`` for the metric a badge shows, or None without usable metrics."""
    usable = {k: v for k, v in (metrics or {}).items() if _finite(v)}
    if not usable:
        return None
    key = headline_key(usable)
    return {"key": key, "value": float(usable[key])}


def json_value(value: Any) -> Any:
    """A JSON-safe version of a DataFrame / record value (NaN and NaT become None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        try:
            value = value.item()  # numpy scalars
        except (ValueError, TypeError):
            pass
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, _dt.datetime):
        try:
            return value.timestamp()
        except (ValueError, OverflowError):  # NaT
            return None
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    try:
        if value != value:  # NaT / NA
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def path_candidates(path: str | None, session: str | None = None, cwd: str | None = None) -> list[str]:
    """Spellings under which the notebook layer may have recorded this notebook's path.

    The frontend knows the path relative to the server root; the kernel's working directory
    is the notebook's directory, and ``JPY_SESSION_NAME`` is usually the absolute path.
    """
    if not path:
        return []
    out = [path]
    base = os.path.basename(path)
    out.append(os.path.join(cwd or os.getcwd(), base))
    if session and os.path.basename(session) == base:
        out.append(session)
    return list(dict.fromkeys(out))


def run_summaries(frame: Any) -> list[dict]:
    """Rows of a runs DataFrame as the panel's items (newest first as given)."""
    rows = []
    if frame is None or len(frame) == 0:
        return rows
    metric_cols = [c for c in frame.columns if str(c).startswith("metrics.")]
    for record in frame.to_dict(orient="records"):
        metrics = {c[len("metrics."):]: record.get(c) for c in metric_cols}
        rows.append({
            "run_id": json_value(record.get("run_id")),
            "name": json_value(record.get("name")),
            "experiment": json_value(record.get("experiment")),
            "status": json_value(record.get("status")),
            "start_time": json_value(record.get("start_time")),
            "end_time": json_value(record.get("end_time")),
            "duration": json_value(record.get("duration")),
            "cell_id": json_value(record.get(f"tags.{CELL_TAG}")),
            "headline": headline_metric(metrics),
        })
    return rows


def run_details(record: Any) -> dict:
    """A RunRecord as the details dialog's payload (JSON-safe; system tags kept apart)."""
    tags = dict(getattr(record, "tags", {}) or {})
    artifacts = []
    for art in getattr(record, "artifacts", []) or []:
        artifacts.append({k: json_value(getattr(art, k, None))
                          for k in ("name", "size", "kind", "media_type")})
    return json_value({
        "run_id": record.run_id,
        "experiment": record.experiment,
        "name": record.name,
        "status": record.status,
        "start_time": record.start_time,
        "end_time": record.end_time,
        "duration": getattr(record, "duration", None),
        "parent_run_id": record.parent_run_id,
        "params": dict(record.params or {}),
        "metrics": dict(record.metrics or {}),
        "headline": headline_metric(record.metrics),
        "tags": {k: v for k, v in tags.items() if not k.startswith(SYSTEM_TAG_PREFIX)},
        "system_tags": {k: v for k, v in tags.items() if k.startswith(SYSTEM_TAG_PREFIX)},
        "notes": getattr(record, "notes", "") or "",
        "artifacts": artifacts,
    })


def error(request_id: Any, message: str) -> dict:
    return {"type": "error", "request_id": request_id, "message": message}


def _finite(value: Any) -> bool:
    try:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    except TypeError:
        return False
