"""Where the interactive dashboard cannot run: is anywidget importable?

Without it the run table is a static, escaped HTML table with a note saying why, and the
panels draw static figures instead of ``FigureWidget``s.
"""

from __future__ import annotations


def anywidget_available() -> bool:
    """True when ``anywidget`` can be imported in this kernel."""
    try:
        import anywidget  # noqa: F401
    except Exception:
        return False
    return True


__all__ = ["anywidget_available"]
