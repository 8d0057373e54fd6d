"""Turn a framework's hyperparameters into values nbtrack stores as params.

Params keep their Python type (int, float, bool, str, None, lists and dicts of those); anything
else becomes readable text: an estimator its short ``repr``, a class or function its qualified
name, a tensor or array its number (size 1) or list (up to 100 items) or ``repr``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

MAX_TEXT = 250  # longer reprs are cut (a Pipeline's steps, a long list of callbacks)
MAX_ITEMS = 100
MAX_DEPTH = 5


def plain(value: Any, _depth: int = 0) -> Any:
    """``value`` as a storable param value (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    module = (type(value).__module__ or "").split(".")[0]
    if module in ("numpy", "torch") and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return plain(value.item(), _depth)  # a numpy scalar, a 0-d array or tensor
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if _depth < MAX_DEPTH:
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value) and len(value) <= MAX_ITEMS:
            return {k: plain(v, _depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)) and len(value) <= MAX_ITEMS:
            return [plain(v, _depth + 1) for v in value]
        if module in ("numpy", "torch") and hasattr(value, "tolist") and _size(value) <= MAX_ITEMS:
            return plain(value.tolist(), _depth + 1)
    if callable(value) and hasattr(value, "__qualname__") and not hasattr(value, "get_params"):
        return f"{getattr(value, '__module__', '') or ''}.{value.__qualname__}".lstrip(".")
    return _text(value)


def _size(value: Any) -> int:
    size = getattr(value, "size", None)
    if callable(size):  # torch: size() is the shape
        size = value.numel()
    return int(size) if isinstance(size, (int, float)) or hasattr(size, "__int__") else MAX_ITEMS + 1


def _text(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not stop the others
        text = f"<{type(value).__qualname__}>"
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def flatten(params: Mapping[str, Any], separator: str = ".", prefix: str = "") -> dict[str, Any]:
    """Nested dicts become ``outer.inner`` keys (with ``separator``); values go through :func:`plain`."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{separator}{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value and all(isinstance(k, str) for k in value):
            flat.update(flatten(value, separator, name))
        else:
            flat[name] = plain(value)
    return flat


def same(a: Any, b: Any) -> bool:
    """Equal as params (NaN equals NaN; 1 and 1.0 and True are different values)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def clashes(existing: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """The keys of ``params`` that ``existing`` holds with another value (a value the run stored
    redacted, such as a token, is no clash: it cannot be compared)."""
    from ..secrets import REDACTED

    return [key for key, value in params.items()
            if key in existing and existing[key] != REDACTED and not same(existing[key], value)]


def numbers(values: Mapping[str, Any], keys: Iterable[str] | None = None) -> dict[str, float]:
    """The entries of ``values`` that are real numbers (tensors and numpy scalars included), as floats."""
    found: dict[str, float] = {}
    for key in (values if keys is None else keys):
        value = values[key]
        if hasattr(value, "item") and _size(value) == 1:
            try:
                value = value.item()
            except Exception:
                continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        found[str(key)] = float(value)
    return found
