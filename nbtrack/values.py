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

from .errors import KeyNameError, MetricTypeError, MetricValueError, ParamTypeError, ParamValueError

MAX_KEY_LENGTH = 250
MAX_PARAM_DEPTH = 100  # lists/dicts nested deeper are refused (deeper ones hit Python's recursion limit)

EncodedParam = tuple[str, str, "float | None"]


def check_key(kind: str, key: object) -> str:
    """Return ``key`` if it is a usable param/metric/tag key, else raise KeyNameError."""
    if type(key) is not str or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key or not _encodable(key):
        raise KeyNameError(kind, key)
    return key


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates such as os.fsdecode's '\\udcff')."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(what: str, value: str) -> str:
    """Refuse text no store can keep: NUL characters (PostgreSQL) and lone surrogates (both drivers).

    Either would make every later write of the run fail, so it is refused when logged.
    """
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character (\\x00), which the store cannot keep: "
                         "remove it (e.g. value.replace('\\x00', '')) before logging")
    if not _encodable(value):
        raise ValueError(f"{what} contains a lone surrogate (e.g. '\\udcff' from os.fsdecode of a "
                         "non-UTF-8 file name), which is not valid Unicode and cannot be stored: "
                         "log value.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace') "
                         "or os.fsencode(value) as text instead")
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


def normalize_param(key: str, value: Any, _depth: int = 0) -> Any:
    """Return the canonical Python value of a param (tuples become lists).

    Raises ParamTypeError for unsupported types and ParamValueError for values no store can
    keep (nested more than ``MAX_PARAM_DEPTH`` deep, integers too long to print).
    """
    value = _plain(value)
    if isinstance(value, str):
        return check_text(f"param {key!r}", value)
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        if value.bit_length() > 10_000:  # ~3,000 digits; str() refuses beyond 4,300
            raise ParamValueError(key, f"the integer has {value.bit_length()} bits; log it as text or a float")
        return value
    if _depth >= MAX_PARAM_DEPTH and isinstance(value, (list, tuple, dict)):
        raise ParamValueError(key, f"it is nested more than {MAX_PARAM_DEPTH} lists/dicts deep; "
                                   "log a flatter value or store it with log_artifact")
    if isinstance(value, (list, tuple)):
        return [normalize_param(key, item, _depth + 1) for item in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ParamTypeError(key, value)
            out[check_text(f"param {key!r} (a dict key)", k)] = normalize_param(key, v, _depth + 1)
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
        try:
            return float(value)
        except OverflowError:
            raise MetricValueError(key, value) from None
    if isinstance(value, numbers.Real) or (kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")):
        try:  # numpy's bool (numpy 2 names it `bool`) is not a numbers.Real, like Python's is
            return float(value)
        except OverflowError:
            raise MetricValueError(key, value) from None
        except (TypeError, ValueError):
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
