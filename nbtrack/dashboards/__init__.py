"""The nbtrack dashboards package (the function is ``nbtrack.dashboard()``): an ipywidgets run
browser, pure plotly figures and an HTML report.

Importing this package is cheap; the widget, pandas and plotly load when first used.
"""

from __future__ import annotations

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
