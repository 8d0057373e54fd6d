"""Who starts a run and where: recorded on every run (``runs.user_name``, ``runs.host_name``).

The user is ``NBTRACK_USER`` when set (a shared container where everyone is ``jovyan`` or root),
else the login name (``getpass.getuser``: ``LOGNAME``, ``USER``, ... then the password database),
else ``uid:<n>``. The host is ``NBTRACK_HOST`` when set, else the machine's host name.
"""

from __future__ import annotations

import getpass
import os
import socket
from functools import lru_cache


@lru_cache(maxsize=1)
def _login_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container started with an arbitrary --user)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


@lru_cache(maxsize=1)
def _host_name() -> str:
    try:
        return socket.gethostname() or "unknown"
    except OSError:
        return "unknown"


def current_user() -> str:
    """The user recorded on runs started now."""
    return (os.environ.get("NBTRACK_USER") or "").strip()[:250] or _login_user()[:250]


def current_host() -> str:
    """The host recorded on runs started now."""
    return (os.environ.get("NBTRACK_HOST") or "").strip()[:250] or _host_name()[:250]
