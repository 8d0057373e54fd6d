"""``mlflow.exceptions``: the error MLflow code catches, for what nbtrack.mlflow refuses itself."""

from __future__ import annotations

from ..errors import NbtrackError


class MlflowException(NbtrackError):
    """An MLflow-API error (``error_code`` as in MLflow, e.g. ``INVALID_PARAMETER_VALUE``).

    nbtrack's own errors (``ParamConflictError``, ``RunNotFoundError``, ...) are raised as
    they are; catch :class:`nbtrack.NbtrackError` to catch both.
    """

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE") -> None:
        self.message, self.error_code = message, error_code
        super().__init__(message)

    @classmethod
    def invalid_parameter_value(cls, message: str) -> "MlflowException":
        return cls(message, "INVALID_PARAMETER_VALUE")
