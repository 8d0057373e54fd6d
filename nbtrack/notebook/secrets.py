"""Compatibility re-export: redaction lives in :mod:`nbtrack.secrets` (this module goes
once no caller imports it)."""

from ..secrets import REDACTED, is_secret_name, redact_param, redact_source, redact_values, secret_values
from ..secrets import redact as redact_text

__all__ = ["REDACTED", "is_secret_name", "redact_param", "redact_source", "redact_text", "redact_values",
           "secret_values"]
