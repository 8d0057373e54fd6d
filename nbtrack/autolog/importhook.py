"""Post-import hooks: run a function right after a given module has been imported.

``when_imported(name, hook)`` calls ``hook(module)`` now if the module is already imported,
else right after its code has run, the first time anything imports it. This is how
``nbtrack.autolog()`` works before ``import sklearn``: nbtrack itself imports no framework.

A finder placed first on ``sys.meta_path`` answers only for watched names: it asks the other
finders for the real spec and wraps its loader's ``exec_module``. The wrapper puts the real
loader back on the module before running it (so ``__loader__`` and ``__spec__.loader``, which
``importlib.resources`` reads, are the framework's own), then calls the hooks.
"""

from __future__ import annotations

import logging
import sys
import threading
from importlib.abc import MetaPathFinder
from types import ModuleType
from typing import Any, Callable

logger = logging.getLogger("nbtrack.autolog")

Hook = Callable[[ModuleType], None]

_lock = threading.RLock()
_hooks: dict[str, list[Hook]] = {}
_searching = threading.local()


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once module ``name`` is imported (now, if it already is)."""
    module = sys.modules.get(name)
    if module is not None and not _initializing(module):
        _call(hook, module)
        return
    with _lock:
        hooks = _hooks.setdefault(name, [])
        if hook not in hooks:
            hooks.append(hook)
        _install_finder()


def forget(name: str, hook: Hook) -> None:
    """Stop waiting for ``name`` with ``hook`` (``nbtrack.autolog(disable=True)``)."""
    with _lock:
        hooks = _hooks.get(name, [])
        if hook in hooks:
            hooks.remove(hook)
        if not hooks:
            _hooks.pop(name, None)


def waiting() -> list[str]:
    """The module names that have hooks waiting for their import."""
    with _lock:
        return sorted(_hooks)


def _initializing(module: ModuleType) -> bool:
    """Whether ``module`` is still running its code (in ``sys.modules`` but not done)."""
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _call(hook: Hook, module: ModuleType) -> None:
    try:
        hook(module)
    except Exception:  # an adapter that fails to install must not break the user's import
        logger.warning("nbtrack autolog: installing the hook for %s failed", module.__name__, exc_info=True)


def _run_hooks(name: str) -> None:
    with _lock:
        hooks = _hooks.pop(name, [])
    module = sys.modules.get(name)
    if module is None:
        return
    for hook in hooks:
        _call(hook, module)


class _HookedLoader:
    """Runs the real loader, then the hooks. Everything else goes to the real loader."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _run_hooks(self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._loader, attribute)


class _Finder(MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _hooks or getattr(_searching, "name", None) == fullname:
            return None
        _searching.name = fullname
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            _searching.name = None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _HookedLoader(spec.loader, fullname)
        return spec


_FINDER = _Finder()


def _install_finder() -> None:
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
