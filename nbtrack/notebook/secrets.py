"""Keep secrets out of what runs record: notebook snapshots, history, cell sources, params.

A string literal is replaced by ``'<redacted>'`` when it is assigned to (or passed as) a name
that looks secret (``api_key = "..."``, ``os.environ["GITHUB_TOKEN"] = "..."``,
``connect(password="...")``), and any literal that looks like a credential
(``sk-...``, ``ghp_...``, ``AKIA...``, ``scheme://user:password@host``) is redacted wherever it is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

REDACTED = "<redacted>"
SECRET_NAME = re.compile(r"token|secret|passw|pwd|credential|api_?key|access_?key|private_?key|auth(?!or)", re.I)
SECRET_VALUE = re.compile(r"(?<=://)[^/\s:@'\"]+:[^/\s@'\"]+(?=@)|\b(?:gh[pousr]_|sk-|xox[abp]-|AKIA)[A-Za-z0-9_\-]{8,}")
_ASSIGNED = re.compile(
    r"(?P<name>[A-Za-z_]\w*)(?P<mid>['\"]?\s*\]?\s*(?::\s*[\w\[\], .]+?\s*)?=(?!=)\s*[rbuRBU]?)"
    r"(?P<q>['\"])(?P<value>[^'\"\n]*)(?P=q)")


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_text(text: str) -> str:
    """``text`` with secret-looking string literals replaced by ``<redacted>``."""
    def assigned(match: re.Match) -> str:
        if not is_secret_name(match["name"]) or not match["value"]:
            return match[0]
        return f"{match['name']}{match['mid']}{match['q']}{REDACTED}{match['q']}"

    return SECRET_VALUE.sub(REDACTED, _ASSIGNED.sub(assigned, text))


@lru_cache(maxsize=2048)
def redact_source(source: str) -> str:
    """:func:`redact_text` for cell sources, cached (the same cells are recorded again and again)."""
    return redact_text(source)


def secret_values(namespace: dict[str, Any]) -> set[str]:
    """String values (6+ characters) the user's namespace holds under secret-looking names."""
    return {value for name, value in list(namespace.items())
            if isinstance(value, str) and len(value) >= 6 and not name.startswith("_") and is_secret_name(name)}


def redact_values(text: str, values: set[str]) -> str:
    """``text`` (e.g. what a cell printed) with the given secret values and credential-looking
    strings replaced by ``<redacted>``."""
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return redact_text(text)


def redact_param(name: str, value: Any) -> Any:
    """A param value safe to record: secret names and credential-looking strings redacted."""
    if isinstance(value, str):
        return REDACTED if value and is_secret_name(name) else SECRET_VALUE.sub(REDACTED, value)
    return value
