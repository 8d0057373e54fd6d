"""Where a run's code comes from: hooks the upper layers register, called when a run starts.

The core knows no notebook: the notebook layer registers its hook (a snapshot and the
kernel's history in a notebook, the session history in IPython) with :func:`register`.
Without one, or when no hook handles the run, a script's path and source are recorded
(``script`` document, ``source/<file>`` artifact, ``nbtrack.source=script``).
A hook takes the run and returns True when it recorded the run's source.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from typing import Any, Callable

Hook = Callable[[Any], bool]

MAX_SCRIPT_BYTES = 5_000_000
_hooks: list[Hook] = []
_lock = threading.Lock()
_done: "weakref.WeakSet[Any]" = weakref.WeakSet()
_script_cache: dict[str, tuple[tuple[int, int], str]] = {}


def register(hook: Hook) -> None:
    """Call ``hook(run)`` when a run starts (the latest registered first); registering twice is one."""
    with _lock:
        if hook not in _hooks:
            _hooks.append(hook)


def unregister(hook: Hook) -> None:
    with _lock:
        if hook in _hooks:
            _hooks.remove(hook)


def capture(run: Any) -> None:
    """Record where ``run``'s code comes from, once per run. Never raises."""
    with _lock:
        if run in _done:
            return
        _done.add(run)
        hooks = list(reversed(_hooks))
    try:
        for hook in hooks:
            if hook(run):
                return
        _script(run)
    except Exception as problem:  # the run goes on without its source context
        try:
            run.set_document("source_context_error", {"error": f"{type(problem).__name__}: {problem}"})
        except Exception:  # noqa: BLE001 - a run that cannot take a document still runs
            return


def _redact(text: str) -> str:
    from .secrets import redact

    return redact(text)


def _script(run: Any) -> None:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    document: dict[str, Any] = {"path": None, "argv": list(sys.argv[:1]), "artifact": None}
    if isinstance(path, str) and os.path.isfile(path):
        path = os.path.abspath(path)
        document["path"] = path
        stat = os.stat(path)
        if stat.st_size <= MAX_SCRIPT_BYTES:
            key = (stat.st_mtime_ns, stat.st_size)
            cached = _script_cache.get(path)
            if cached is None or cached[0] != key:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    cached = _script_cache[path] = (key, _redact(handle.read()))
            document["artifact"] = run.log_artifact(cached[1], name=f"source/{os.path.basename(path)}")
    run.set_tags({"nbtrack.source": "script"})
    run.set_document("script", document)
