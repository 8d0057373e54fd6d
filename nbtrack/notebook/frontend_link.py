"""Defensive calls into ``nbtrack.frontend`` (the JupyterLab extension's kernel side):
when it is missing or fails, the notebook layer behaves as if no frontend were connected."""

from __future__ import annotations

from typing import Any


def _frontend() -> Any | None:
    try:
        from .. import frontend

        return frontend
    except Exception:
        return None


def register(shell: Any) -> bool:
    module = _frontend()
    try:
        return bool(module.register(shell)) if module is not None else False
    except Exception:
        return False


def unregister(shell: Any) -> None:
    module = _frontend()
    try:
        if module is not None:
            module.unregister(shell)
    except Exception:
        pass


def connected() -> bool:
    module = _frontend()
    try:
        return bool(module.connected()) if module is not None else False
    except Exception:
        return False


def live_notebook(cell_id: str | None) -> dict | None:
    module = _frontend()
    try:
        value = module.live_notebook(cell_id) if module is not None else None
    except Exception:
        return None
    return value if isinstance(value, dict) else None


def notify(message: dict) -> None:
    module = _frontend()
    try:
        if module is not None:
            module.notify(message)
    except Exception:
        pass


def headline(run: Any) -> dict | None:
    module = _frontend()
    try:
        return module.headline_metric(run.metrics) if module is not None else None
    except Exception:
        return None
