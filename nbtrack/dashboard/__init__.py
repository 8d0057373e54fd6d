"""The nbtrack dashboard: an ipywidgets run browser, pure plotly figures and an HTML report.

Importing this package is cheap; the widget, pandas and plotly load when first used.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["dashboard", "Dashboard", "write_report"]


def __getattr__(name: str) -> Any:
    if name in ("dashboard", "Dashboard"):
        from . import widget

        return getattr(widget, name)
    if name == "write_report":
        from .report import write_report

        return write_report
    raise AttributeError(name)


class _CallableModule(types.ModuleType):
    """Importing any ``nbtrack.dashboard.*`` module makes Python set the attribute
    ``nbtrack.dashboard`` to this package, replacing the function ``nbtrack.dashboard()``;
    the package is callable the same way, so ``nbtrack.dashboard("churn")`` keeps working
    (and ``nbtrack.dashboard.figures`` too)."""

    def __call__(self, experiment: str | list[str] | None = None, filter: str | None = None) -> Any:
        from .widget import dashboard

        return dashboard(experiment=experiment, filter=filter)


sys.modules[__name__].__class__ = _CallableModule
