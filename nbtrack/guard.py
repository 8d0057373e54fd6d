"""``guarded``: run a step that must never break the user's code; log what went wrong instead.

Used where nbtrack does something optional for the user (a preview, a notification, a
capture): the failure goes to the ``nbtrack`` logger with its traceback, never to the user's
cell. Never use it around writes whose loss the user must hear about.
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

logger = logging.getLogger("nbtrack")

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def guarded(what: str, level: int = logging.DEBUG, log: logging.Logger | None = None) -> Iterator[None]:
    """``with guarded("reading the notebook path"): ...``: an exception inside is logged
    (with ``exc_info``) at ``level`` and swallowed. KeyboardInterrupt and SystemExit pass."""
    try:
        yield
    except Exception:
        (log or logger).log(level, "nbtrack: %s failed", what, exc_info=True)


def guard(what: str, default: Any = None, level: int = logging.DEBUG) -> Callable[[F], F]:
    """Decorator form of :func:`guarded`: the function returns ``default`` when it raises."""
    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with guarded(what, level):
                return function(*args, **kwargs)
            return default
        return wrapper  # type: ignore[return-value]
    return decorate
