"""Validation and encoding of params, metrics and tags.

Params keep their Python type: each is stored as (kind, text, number) where ``kind`` is
one letter (``s`` str, ``i`` int, ``f`` float, ``b`` bool, ``n`` None, ``j`` JSON list or
dict), ``text`` is what filters compare strings against, and ``number`` what they compare
numbers against.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from .errors import KeyNameError, MetricTypeError, ParamTypeError

MAX_KEY_LENGTH = 250

EncodedParam = tuple[str, str, "float | None"]


def check_key(kind: str, key: object) -> str:
    """Return ``key`` if it is a usable param/metric/tag key, else raise KeyNameError."""
    if type(key) is not str or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise KeyNameError(kind, key)
    return key


def check_text(what: str, value: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store in text (the run would never be written)."""
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character (\\x00), which the store cannot keep: "
                         "remove it (e.g. value.replace('\\x00', '')) before logging")
    return value


def check_name(what: str, value: object) -> str:
    """A run or experiment name: a string of at most 250 characters without NUL."""
    if not isinstance(value, str) or len(value) > MAX_KEY_LENGTH:
        raise ValueError(f"{what} must be a string of at most {MAX_KEY_LENGTH} characters, "
                         f"got {value if not isinstance(value, str) else value[:60] + '...'!r}")
    return check_text(what, value)


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones; leave everything else."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def normalize_param(key: str, value: Any) -> Any:
    """Return the canonical Python value of a param (tuples become lists), or raise ParamTypeError."""
    value = _plain(value)
    if isinstance(value, str):
        return check_text(f"param {key!r}", value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [normalize_param(key, item) for item in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ParamTypeError(key, value)
            out[k] = normalize_param(key, v)
        return out
    raise ParamTypeError(key, value)


def encode_param(value: Any) -> EncodedParam:
    """Encode a normalized param value as (kind, text, number)."""
    if value is None:
        return "n", "None", None
    if value is True or value is False:
        return "b", "True" if value else "False", 1.0 if value else 0.0
    if isinstance(value, int):
        try:
            return "i", str(value), float(value)
        except OverflowError:
            return "i", str(value), None
    if isinstance(value, float):
        return "f", repr(value), None if math.isnan(value) else value
    if isinstance(value, str):
        return "s", value, None
    return "j", json.dumps(value, allow_nan=True), None


def decode_param(kind: str, text: str) -> Any:
    """Inverse of :func:`encode_param`."""
    if kind == "s":
        return text
    if kind == "f":
        return float(text)
    if kind == "i":
        return int(text)
    if kind == "b":
        return text == "True"
    if kind == "n":
        return None
    return json.loads(text)


def metric_value(key: str, value: Any) -> float:
    """Return ``value`` as a float (NaN and infinities kept), or raise MetricTypeError."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int or kind is bool:
        return float(value)
    if isinstance(value, numbers.Real) or kind.__name__ == "bool_":
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            pass
    raise MetricTypeError(key, value)


def tag_value(key: str, value: Any) -> str:
    """Tags are strings; other scalars are converted with str()."""
    value = _plain(value)
    if isinstance(value, str):
        return check_text(f"tag {key!r}", value)
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)
    raise TypeError(f"tag {key!r} must be a string or a scalar, not {type(value).__name__}")
