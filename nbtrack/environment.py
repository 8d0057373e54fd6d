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
from .secrets import is_secret_name, looks_secret, redact_document

ALLOWED_VARIABLES = (
    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS", "PYTHONHASHSEED", "VIRTUAL_ENV", "CONDA_DEFAULT_ENV", "CONDA_PREFIX",
    "LANG", "LC_ALL", "TZ", "SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "JPY_SESSION_NAME",
    "NBTRACK_EXPERIMENT",
)
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|PWD|KEY|CREDENTIAL|AUTH|COOKIE|SESSION_ID|PRIVATE", re.I)
_lock = threading.Lock()


def _after_fork_in_child() -> None:  # a lock held by another thread at fork time would never be released
    global _lock, _scan_lock
    _lock = threading.Lock()
    _scan_lock = threading.Lock()


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
    """The ``sys.path`` directories and their modification times (a ``pip install`` changes one)."""
    signature = []
    for entry in sys.path:
        try:
            signature.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            signature.append((entry, None))
    return tuple(signature)


_signature_checked: tuple[float, tuple, tuple] | None = None
SIGNATURE_TTL = 2.0  # a tracked cell every few ms must not stat every sys.path entry each time


def _recent_signature() -> tuple:
    """:func:`_path_signature`, re-read at most every ``SIGNATURE_TTL`` seconds (or when sys.path changes)."""
    global _signature_checked
    now, paths = time.monotonic(), tuple(sys.path)
    checked = _signature_checked
    if checked is not None and now - checked[0] < SIGNATURE_TTL and checked[1] == paths:
        return checked[2]
    signature = _path_signature()
    _signature_checked = (now, paths, signature)
    return signature


INCOMPLETE = {"incomplete": True,
              "reason": "the environment capture had not finished when the process ended (it runs in the "
                        "background: git, the package list)"}

_scan_lock = threading.Lock()  # one scan at a time: a second caller waits for it instead of repeating it
_scan_cache: tuple[tuple, dict[str, str], dict[str, list[str]]] | None = None


def _header(path: str) -> dict[str, str]:
    """Name and Version from a METADATA/PKG-INFO file, reading only its header."""
    found: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                break
            key, _, value = line.partition(":")
            if key in ("Name", "Version") and key not in found:
                found[key] = value.strip()
                if len(found) == 2:
                    break
    return found


def _top_level(directory: str) -> list[str]:
    """The top-level modules a distribution installs: ``top_level.txt``, else its RECORD's first
    path components (what ``importlib.metadata.packages_distributions`` infers, without
    building a Path per file)."""
    try:
        with open(os.path.join(directory, "top_level.txt"), encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    except OSError:
        pass
    names: dict[str, None] = {}
    try:
        with open(os.path.join(directory, "RECORD"), encoding="utf-8") as handle:
            for line in handle:
                path = line.split(",", 1)[0]
                head, slash, _ = path.partition("/")
                if slash:
                    if head and not head.endswith((".dist-info", ".data", ".egg-info", ".libs")) \
                            and head not in ("..", ".", "__pycache__"):
                        names.setdefault(head, None)
                elif path.endswith((".py", ".so", ".pyd")):
                    names.setdefault(path.split(".", 1)[0], None)
    except OSError:
        return []
    return list(names)


def _describe(distribution: Any) -> tuple[str | None, str | None, list[str]]:
    directory = getattr(distribution, "_path", None)
    if directory is not None and os.path.isdir(str(directory)):
        directory = str(directory)
        for name in ("METADATA", "PKG-INFO"):
            try:
                header = _header(os.path.join(directory, name))
                return header.get("Name"), header.get("Version"), _top_level(directory)
            except OSError:
                continue
    metadata = distribution.metadata  # anything else: the slow, general way
    name = metadata.get("Name") if metadata else None
    top = (distribution.read_text("top_level.txt") or "").split()
    return name, distribution.version, top


def _scan() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Installed distributions {name: version} and {top-level module: [distributions]}, in one
    pass over the ``*.dist-info`` directories (cached until a ``sys.path`` directory changes)."""
    global _scan_cache
    from importlib import metadata

    signature = _recent_signature()
    with _scan_lock:
        cached = _scan_cache
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        packages: dict[str, str] = {}
        modules: dict[str, list[str]] = {}
        for distribution in metadata.distributions():
            try:
                name, version, top = _describe(distribution)
            except Exception:  # one broken distribution does not hide the others
                continue
            if not name or name in packages:
                continue
            packages[name] = version or ""
            for module in top:
                modules.setdefault(module, []).append(name)
        packages = dict(sorted(packages.items(), key=lambda item: item[0].lower()))
        _scan_cache = (signature, packages, modules)
        return packages, modules


def installed_packages() -> dict[str, str]:
    """Installed distributions and their versions (cached until sys.path directories change)."""
    return _scan()[0]


def _module_distributions() -> dict[str, list[str]]:
    return _scan()[1]


def prewarm() -> threading.Thread:
    """Start filling, in the background, what the first run's capture needs and is slow to get.

    Profiled on a fresh kernel, the first ``%%track`` cell spent its seconds in ``Run.end``
    waiting for the package scan and the module-to-distribution map and the SQLAlchemy import.
    ``%load_ext nbtrack`` calls this, so the first tracked cell finds them ready (and a run that
    ends before does not wait: it records them in the background). Registered with the run
    module's capturing threads, so a fork waits for it (a child must not inherit a half import).
    """
    from .guard import guarded
    from .run import _capturing

    def warm() -> None:
        try:
            with guarded("prewarming the environment capture"):
                _scan()
                import nbtrack.store.sql  # noqa: F401 - SQLAlchemy, for the store the first run opens
        finally:
            _capturing.discard(threading.current_thread())

    thread = threading.Thread(target=warm, name="nbtrack-prewarm", daemon=True)
    _capturing.add(thread)
    thread.start()
    return thread


_imported_cache: tuple[int, dict[str, str]] | None = None


def imported_packages_ready() -> bool:
    """Whether :func:`imported_packages` returns without scanning the installed packages."""
    cached = _scan_cache
    return cached is not None and cached[0] == _recent_signature()


def top_level_modules() -> list[str]:
    """The top-level modules imported so far (cheap: what a run imported, to map later)."""
    return [module for module in list(sys.modules) if "." not in module and not module.startswith("_")]


def imported_packages(modules: list[str] | None = None) -> dict[str, str]:
    """Distributions (with versions) of the top-level modules imported so far (or of ``modules``)."""
    global _imported_cache
    if modules is not None:
        return _imported_packages(modules)
    count = len(sys.modules)
    cached = _imported_cache
    if cached is not None and cached[0] == count:
        return cached[1]
    result = _imported_packages(top_level_modules())
    _imported_cache = (count, result)
    return result


def _imported_packages(modules: list[str]) -> dict[str, str]:
    packages, mapping = _scan()
    installed = {name.lower(): version for name, version in packages.items()}
    out = {}
    for module in modules:
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


_recent: tuple[float, tuple, tuple[dict, list]] | None = None


def recent_environment() -> tuple[dict[str, Any], list] | None:
    """The last capture and what was redacted from it, if it is still fresh for this directory
    (cheap: no git, no scan)."""
    ttl = float(os.environ.get("NBTRACK_ENVIRONMENT_TTL", "5"))
    with _lock:
        recent = _recent
    if recent is None or time.monotonic() - recent[0] >= ttl:
        return None
    if recent[1] != (os.getcwd(), code_directory(), _recent_signature()):
        return None
    return recent[2]


def capture_environment() -> tuple[dict[str, Any], list]:
    """The environment document recorded with each run, secrets redacted, and what was
    redacted (:class:`nbtrack.secrets.Finding`s; a git remote URL may hold a token).

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
    findings: list = []
    captured = (redact_document(facts, findings), findings)
    with _lock:
        _recent = (now, key, captured)
    return captured
