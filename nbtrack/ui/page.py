"""What the kernel of an ``nbtrack ui`` page runs: a header and the read-only dashboard.

The server hands the kernel its settings through the environment (``NBTRACK_STORE``,
``NBTRACK_READ_ONLY=1``, ``NBTRACK_UI_EXPERIMENTS``, ``NBTRACK_UI_FILTER``); nothing about
the store is written into the page's notebook.
"""

from __future__ import annotations

import json
import os
from typing import Any

EXPERIMENTS_ENV = "NBTRACK_UI_EXPERIMENTS"
FILTER_ENV = "NBTRACK_UI_FILTER"


def page_experiments() -> list[str]:
    """The experiments the page starts with (``nbtrack ui -e``); empty for all."""
    try:
        names = json.loads(os.environ.get(EXPERIMENTS_ENV) or "[]")
    except ValueError:
        return []
    return [str(name) for name in names] if isinstance(names, list) else []


def header_html(store: str) -> str:
    """The line above the dashboard: which store (redacted), and that the page only reads."""
    from markupsafe import escape

    return (f'<div class="nbtrack-ui-header"><b>nbtrack</b> · store <code>{escape(store)}</code> · '
            "read-only: browse, filter, plot and compare; runs cannot be changed here</div>")


def show() -> Any:
    """Display the header and the read-only dashboard (the page's one cell); returns the dashboard.

    An error (store unreachable, bad filter in ``NBTRACK_UI_FILTER``) is shown as text instead
    of a traceback the page would hide.
    """
    import ipywidgets as w
    from IPython.display import display
    from markupsafe import escape

    from nbtrack import config
    from nbtrack.dashboards.widget import Dashboard
    from nbtrack.store.sql import redact_uri

    display(w.HTML(header_html(redact_uri(config.store_uri()))))
    experiments = page_experiments()
    try:
        board = Dashboard(experiments or None, os.environ.get(FILTER_ENV) or None, read_only=True)
    except Exception as error:  # the page says what went wrong; the server keeps serving
        display(w.HTML(f'<div class="nbtrack-error">{escape(type(error).__name__)}: {escape(str(error))}</div>'))
        return None
    display(board)
    return board
