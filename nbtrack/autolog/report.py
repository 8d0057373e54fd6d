"""What autolog says when something of its own goes wrong: never an exception in the user's code.

A failure is a warning (:class:`AutologWarning`, shown once per framework and step) unless the
framework's ``silent`` setting is on; then it only goes to the ``nbtrack.autolog`` logger.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from typing import Iterator

from . import registry

logger = logging.getLogger("nbtrack.autolog")

_reported: set[tuple[str, str]] = set()


class AutologWarning(UserWarning):
    """Autolog could not record something; the user's training went on unchanged."""


def problem(framework: str, what: str, error: BaseException | None = None) -> None:
    """Say once that ``what`` failed for ``framework`` (a warning, or a debug line when silent)."""
    detail = f": {type(error).__name__}: {error}" if error is not None else ""
    logger.debug("nbtrack autolog (%s): %s failed%s", framework, what, detail, exc_info=error is not None)
    if registry.settings(framework).silent or (framework, what) in _reported:
        return
    _reported.add((framework, what))
    warnings.warn(f"nbtrack autolog ({framework}): {what} failed{detail}; training goes on, "
                  "this is not recorded", AutologWarning, stacklevel=3)


def notice(framework: str, text: str) -> None:
    """Say ``text`` once (a warning unless silent): something the user should know, not a failure."""
    logger.debug("nbtrack autolog (%s): %s", framework, text)
    if registry.settings(framework).silent or (framework, text) in _reported:
        return
    _reported.add((framework, text))
    warnings.warn(f"nbtrack autolog ({framework}): {text}", AutologWarning, stacklevel=3)


@contextmanager
def guarded(framework: str, what: str) -> Iterator[None]:
    """``with guarded("sklearn", "logging the model"):`` — an Exception inside is reported and
    swallowed; KeyboardInterrupt and SystemExit pass."""
    try:
        yield
    except Exception as error:
        problem(framework, what, error)


@contextmanager
def quiet_warnings() -> Iterator[None]:
    """Silence warnings raised by autolog's own work (metric computations, model saving): they
    are not about the user's code. Autolog's own warnings pass, through the user's filters."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            mine = [w for w in caught if issubclass(w.category, AutologWarning)]
    for warning in mine:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
