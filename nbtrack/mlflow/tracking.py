"""``mlflow.tracking``: ``mlflow.tracking.MlflowClient`` for code that spells it so."""

from __future__ import annotations

from .client import MlflowClient

__all__ = ["MlflowClient"]
