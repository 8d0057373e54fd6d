"""Integrations with other tools, one module each, imported only when used (``nbtrack.integrations.optuna``)."""
