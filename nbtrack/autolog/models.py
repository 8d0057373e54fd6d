"""Saving trained models as artifacts of the run (``models/<name>.<format>``)."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

MODELS = "models"


def model_name(model: Any) -> str:
    return type(model).__name__


def log_estimator(session: "Session", model: Any, name: str | None = None) -> str | None:
    """A scikit-learn-style model as ``models/<Class>.skops`` (skops, no pickle risk on load),
    else, when skops is missing or cannot store it, ``models/<Class>.pkl``."""
    base = f"{MODELS}/{name or model_name(model)}"
    try:
        import skops.io  # noqa: F401
    except ImportError:
        pass
    else:
        try:
            return session.run.log_artifact(model, name=f"{base}.skops")
        except Exception:  # an object skops cannot store: pickled below
            pass
    return session.log_artifact(model, f"{base}.pkl", "logging the model")


def log_saved(session: "Session", save: Callable[[str], Any], filename: str,
              what: str = "logging the model") -> str | None:
    """Have ``save(path)`` write a file or directory in a temporary directory, then log it as
    ``models/<filename>``."""
    with tempfile.TemporaryDirectory(prefix="nbtrack-autolog-") as directory:
        path = os.path.join(directory, filename)
        session.step(what, lambda: save(path))
        if not os.path.exists(path):
            return None
        return session.log_artifact(path, f"{MODELS}/{filename}", what)
