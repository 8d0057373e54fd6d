"""What the code ran on: Python, OS, machine, packages, git, and allow-listed variables.

Facts that cannot change while the process lives are computed once; the package list is
recomputed only when a directory on ``sys.path`` changes (a ``pip install`` in the kernel).
Environment variables come only from an allow-list, and even those are dropped when their
name or value looks like a secret.
"""

from __future__ import annotations

import getpass
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from functools import lru_cache
from typing import Any

from .gitinfo import git_info
from .secrets import is_secret_name, looks_secret

ALLOWED_VARIABLES = (
    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS", "PYTHONHASHSEED", "VIRTUAL_ENV", "CONDA_DEFAULT_ENV", "CONDA_PREFIX",
    "LANG", "LC_ALL", "TZ", "SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "JPY_SESSION_NAME",
    "NBTRACK_EXPERIMENT",
)
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|PWD|KEY|CREDENTIAL|AUTH|COOKIE|SESSION_ID|PRIVATE", re.I)
_lock = threading.Lock()
_packages_cache: tuple[tuple, dict[str, str]] | None = None


def _after_fork_in_child() -> None:  # a lock held by another thread at fork time would never be released
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def allowed_variables(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Allow-listed environment variables whose name and value do not look secret."""
    environ = os.environ if environ is None else environ
    out = {}
    for name in ALLOWED_VARIABLES:
        value = environ.get(name)
        if value is None or (name != "JPY_SESSION_NAME" and (_SECRET_NAME.search(name) or is_secret_name(name))):
            continue
        if looks_secret(value):
            continue
        out[name] = value
    return out


@lru_cache(maxsize=1)
def _static_facts() -> dict[str, Any]:
    return {
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "os": {"system": platform.system(), "release": platform.release(), "platform": platform.platform()},
        "machine": {"hostname": socket.gethostname(), "architecture": platform.machine(),
                    "cpu_count": os.cpu_count(), "gpus": _gpu_names()},
        "user": _user(),
    }


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


def _gpu_names() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []


def _path_signature() -> tuple:
    signature = []
    for entry in sys.path:
        try:
            signature.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            signature.append((entry, None))
    return tuple(signature)


def installed_packages() -> dict[str, str]:
    """Installed distributions and their versions (cached until sys.path directories change)."""
    global _packages_cache
    from importlib import metadata

    signature = _path_signature()
    with _lock:
        if _packages_cache is not None and _packages_cache[0] == signature:
            return _packages_cache[1]
    packages = {}
    for distribution in metadata.distributions():
        name = distribution.metadata.get("Name") if distribution.metadata else None
        if name:
            packages.setdefault(name, distribution.version)
    packages = dict(sorted(packages.items(), key=lambda item: item[0].lower()))
    with _lock:
        _packages_cache = (signature, packages)
    return packages


@lru_cache(maxsize=1)
def _module_distributions() -> dict[str, list[str]]:
    from importlib import metadata

    return metadata.packages_distributions()


def prewarm() -> threading.Thread:
    """Start filling, in the background, what the first run's capture needs and is slow to get.

    Profiled on a fresh kernel, the first ``%%track`` cell spent its seconds in ``Run.end``
    waiting for the package scan (``installed_packages``), the module-to-distribution map
    (``packages_distributions``) and the SQLAlchemy import. ``%load_ext nbtrack`` calls this,
    so an interactive user's first tracked cell finds them ready. Registered with the run
    module's capturing threads, so a fork waits for it (a child must not inherit a half import).
    """
    from .guard import guarded
    from .run import _capturing

    def warm() -> None:
        try:
            with guarded("prewarming the environment capture"):
                import nbtrack.store.sql  # noqa: F401 - SQLAlchemy, for the store the first run opens
                installed_packages()
                _module_distributions()
        finally:
            _capturing.discard(threading.current_thread())

    thread = threading.Thread(target=warm, name="nbtrack-prewarm", daemon=True)
    _capturing.add(thread)
    thread.start()
    return thread


_imported_cache: tuple[int, dict[str, str]] | None = None


def imported_packages() -> dict[str, str]:
    """Distributions (with versions) of the top-level modules imported so far."""
    global _imported_cache
    count = len(sys.modules)
    cached = _imported_cache
    if cached is not None and cached[0] == count:
        return cached[1]
    result = _imported_packages()
    _imported_cache = (count, result)
    return result


def _imported_packages() -> dict[str, str]:
    installed = {name.lower(): version for name, version in installed_packages().items()}
    mapping = _module_distributions()
    out = {}
    for module in list(sys.modules):
        if "." in module or module.startswith("_"):
            continue
        for distribution in mapping.get(module, ()):
            version = installed.get(distribution.lower())
            if version is not None:
                out[distribution] = version
    return dict(sorted(out.items(), key=lambda item: item[0].lower()))


def code_directory() -> str:
    """Where the user's code lives: the notebook's or script's directory, else the cwd."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session and os.path.isabs(session):
        return os.path.dirname(session)
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path and "ipykernel" not in path:
        return os.path.dirname(os.path.abspath(path))
    return os.getcwd()


_recent: tuple[float, tuple, dict] | None = None


def recent_environment() -> dict[str, Any] | None:
    """The last capture, if it is still fresh for this directory (cheap: no git, no scan)."""
    ttl = float(os.environ.get("NBTRACK_ENVIRONMENT_TTL", "5"))
    with _lock:
        recent = _recent
    if recent is None or time.monotonic() - recent[0] >= ttl:
        return None
    if recent[1] != (os.getcwd(), code_directory(), _path_signature()):
        return None
    return recent[2]


def capture_environment() -> dict[str, Any]:
    """The environment document recorded with each run.

    Runs started within ``NBTRACK_ENVIRONMENT_TTL`` seconds (default 5) of each other in
    one process, from the same directory, share one capture: a sweep of a thousand runs
    does not run git a thousand times.
    """
    global _recent
    key = (os.getcwd(), code_directory(), _path_signature())
    ttl = float(os.environ.get("NBTRACK_ENVIRONMENT_TTL", "5"))
    now = time.monotonic()
    with _lock:
        if _recent is not None and _recent[1] == key and now - _recent[0] < ttl:
            return _recent[2]
    facts = dict(_static_facts())
    facts["cwd"] = os.getcwd()
    facts["variables"] = allowed_variables()
    facts["packages"] = installed_packages()
    facts["git"] = git_info(code_directory())
    with _lock:
        _recent = (now, key, facts)
    return facts
