"""``nbtrack ui``: the dashboard as a read-only web page, for teammates without a notebook.

The page is served by Voilà (a maintained Jupyter server that renders a notebook's widgets):
each visit gets its own kernel running ``nbtrack.dashboard(..., read_only=True)`` on the store,
opened read-only (``NBTRACK_READ_ONLY``). Why Voilà and how the page is protected: the "Web
view" section of docs/dashboard.md.

- ``server.py``: the settings, the token, the Voilà configuration, ``serve()``.
- ``page.py``: what the page's kernel runs (``show()``).
- ``commands.py``: the ``nbtrack ui`` subcommand.
"""

from __future__ import annotations

from .server import UiSettings, serve

__all__ = ["UiSettings", "serve"]
