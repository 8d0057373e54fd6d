"""Run a child process as another user, so that file permissions apply (root ignores them).

As root the child runs as uid/gid 65534 (``setpriv``); the directories on the way to this
Python, its packages and the checkout get the search bit for others (``o+x``) for the time of
the test, and are put back after. As any other user the child simply runs as that user.
"""

from __future__ import annotations

import os
import shutil
import site
import stat
import sys
import sysconfig
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
OTHER = 65534


def _ancestors(path: str) -> list[str]:
    found, path = [], os.path.abspath(path)
    while True:
        found.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            return found
        path = parent


@contextmanager
def other_user() -> Iterator[list[str]]:
    """Yields the command prefix that runs a program as the other user."""
    if os.geteuid() != 0:
        yield []
        return
    if shutil.which("setpriv") is None:
        message = "setpriv (util-linux) is needed to run a writer as another user"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    needed = {sys.prefix, sys.base_prefix, str(REPO), os.path.dirname(os.path.realpath(sys.executable)),
              *sysconfig.get_paths().values(), *site.getsitepackages()}
    changed: list[tuple[str, int]] = []
    for directory in sorted({a for p in needed if os.path.exists(p) for a in _ancestors(p)}):
        mode = os.stat(directory).st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            os.chmod(directory, stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append((directory, stat.S_IMODE(mode)))
    try:
        yield ["setpriv", f"--reuid={OTHER}", f"--regid={OTHER}", "--clear-groups"]
    finally:
        for directory, mode in reversed(changed):
            os.chmod(directory, mode)


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A fresh directory the other user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="nbtrack-perm-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                try:
                    os.chmod(os.path.join(root, name), 0o777, follow_symlinks=False)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)


def set_writable(paths: list[Path], writable: bool) -> None:
    """Directories rwx/r-x and files rw/r for everyone (the other user is 'others')."""
    for path in paths:
        if path.is_dir():
            os.chmod(path, 0o777 if writable else 0o555)
        elif path.exists():
            os.chmod(path, 0o666 if writable else 0o444)
