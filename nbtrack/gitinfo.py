"""Git facts about the repository the code lives in: commit, branch, remote, uncommitted diff.

The diff is recorded with secrets redacted (:mod:`nbtrack.secrets`); the findings go in
``redactions`` (pattern names, never values)."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

from .secrets import redact_text, summarize

MAX_DIFF_BYTES = 1 << 20
_CREDENTIALS = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@")


def strip_credentials(url: str) -> str:
    """``https://user:token@host/repo`` -> ``https://host/repo``."""
    return _CREDENTIALS.sub(r"\g<scheme>", url)


def _git(directory: str, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", directory, *args], capture_output=True, timeout=10,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", "replace")


def git_info(directory: str | None = None) -> dict[str, Any] | None:
    """Facts about the git repository containing ``directory`` (None outside a repository)."""
    directory = directory or os.getcwd()
    root = _git(directory, "rev-parse", "--show-toplevel")
    if root is None:
        return None
    root = root.strip()
    commit = (_git(root, "rev-parse", "HEAD") or "").strip() or None
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None
    remote = (_git(root, "config", "--get", "remote.origin.url") or "").strip()
    status = _git(root, "status", "--porcelain", "--untracked-files=normal") or ""
    diff = (_git(root, "diff", "HEAD", "--no-color", "--no-ext-diff") if commit else "") or ""
    truncated = len(diff.encode("utf-8")) > MAX_DIFF_BYTES
    if truncated:
        diff = diff.encode("utf-8")[:MAX_DIFF_BYTES].decode("utf-8", "ignore")
    untracked = [line[3:] for line in status.splitlines() if line.startswith("??")]
    diff, findings = redact_text(diff)
    return {
        "root": root,
        "commit": commit,
        "branch": branch,
        "remote": strip_credentials(remote) if remote else None,
        "dirty": bool(status.strip()),
        "diff": diff,
        "diff_truncated": truncated,
        "untracked": untracked[:200],
        "redactions": summarize("git.diff", findings),
    }
