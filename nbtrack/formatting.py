"""How numbers, durations and times read wherever nbtrack shows them (CLI, dashboard, cell summary)."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pandas NA."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT, NA
    except (TypeError, ValueError):
        return False


def format_number(value: float, digits: int = 4) -> str:
    """Compact text for a number: integers as is, others with ``digits`` significant digits."""
    if isinstance(value, (bool, int)):
        return str(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}"


def format_duration(value: Any) -> str:
    """Seconds (or a Timedelta) as ``350 ms``, ``1.2 s``, ``3m04s`` or ``2h05m``; "" when missing."""
    if is_missing(value):
        return ""
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def format_time(value: Any) -> str:
    """Epoch seconds or a timestamp as ``YYYY-MM-DD HH:MM`` (UTC); "" when missing."""
    if is_missing(value):
        return ""
    if isinstance(value, (int, float)):
        moment = _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    elif hasattr(value, "strftime"):  # datetime or pandas Timestamp
        moment = value
    else:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M")
