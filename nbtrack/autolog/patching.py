"""Replace an attribute of a framework (a method, a module function) and put it back later.

Each patch is recorded under its framework's name, with what the owner held before (or that
it held nothing: an inherited method), so :func:`restore` undoes exactly what was done.
Patching twice is once: a wrapper is marked and never wrapped again.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

_MISSING = object()
_MARK = "__nbtrack_autolog__"

_lock = threading.Lock()
_patches: dict[str, list[tuple[Any, str, Any]]] = {}


def is_patched(value: Any) -> bool:
    return getattr(value, _MARK, False) is True


def wrap(function: Callable, wrapper: Callable) -> Callable:
    """Mark ``wrapper`` as autolog's wrapper of ``function`` (``__wrapped__``, name, docstring)."""
    functools.update_wrapper(wrapper, function)
    setattr(wrapper, _MARK, True)
    return wrapper


def patch(framework: str, owner: Any, name: str, make_wrapper: Callable[[Callable], Callable]) -> bool:
    """Set ``owner.name`` to ``make_wrapper(current value)``; False when it already is a wrapper
    or the owner has no such attribute. The value replaced is looked up through inheritance;
    the owner's own entry (or its absence) is what :func:`restore` brings back."""
    current = getattr(owner, name, _MISSING)
    if current is _MISSING or is_patched(current):
        return False
    own = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else current
    if isinstance(own, (staticmethod, classmethod)):
        return False  # not a plain method: left alone
    wrapper = make_wrapper(current)
    setattr(wrapper, _MARK, True)
    with _lock:
        setattr(owner, name, wrapper)
        _patches.setdefault(framework, []).append((owner, name, own))
    return True


def set_attribute(framework: str, owner: Any, name: str, value: Any) -> None:
    """Set ``owner.name = value`` (any value, e.g. a classmethod), restorable like a patch."""
    own = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
    with _lock:
        setattr(owner, name, value)
        _patches.setdefault(framework, []).append((owner, name, own))


def restore(framework: str) -> int:
    """Undo every patch of ``framework`` (newest first); returns how many were undone."""
    with _lock:
        patches = _patches.pop(framework, [])
    for owner, name, original in reversed(patches):
        if original is _MISSING:
            try:
                delattr(owner, name)
            except AttributeError:
                pass
        else:
            setattr(owner, name, original)
    return len(patches)


def patched(framework: str) -> list[tuple[Any, str]]:
    """What ``framework`` has patched: (owner, attribute) pairs."""
    with _lock:
        return [(owner, name) for owner, name, _ in _patches.get(framework, [])]
