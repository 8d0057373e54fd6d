"""Compatibility shim: the notebook layer's redaction now lives in :mod:`nbtrack.secrets`.

Kept only while call sites move to the core module; it will be removed.
"""

from __future__ import annotations

from typing import Any

from .. import secrets as _core
from ..secrets import REDACTED, is_secret_name  # noqa: F401  (re-exported)


def redact_text(text: str) -> str:
    """``text`` with secrets redacted (see :func:`nbtrack.secrets.redact_text`)."""
    return _core.redact(text)


def redact_source(source: str) -> str:
    """:func:`redact_text` for cell sources, cached."""
    return _core.redact_cached(source)[0]


def secret_values(namespace: dict[str, Any]) -> set[str]:
    """String values (6+ characters) the user's namespace holds under secret-looking names."""
    return {value for name, value in list(namespace.items())
            if isinstance(value, str) and len(value) >= 6 and not name.startswith("_") and is_secret_name(name)}


def redact_values(text: str, values: set[str]) -> str:
    """``text`` with the given exact values and any secret redacted."""
    return _core.redact(text, values)


def redact_param(name: str, value: Any) -> Any:
    """A param value safe to record."""
    return _core.redact_value(value, name)
