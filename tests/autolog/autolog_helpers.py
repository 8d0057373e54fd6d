"""Helpers for the autolog tests (a module name of its own: every test folder has a conftest)."""

from __future__ import annotations

import importlib
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(module: str):
    """Import ``module`` or skip the test (fail under CI=true, which installs every framework)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if IN_CI:
            pytest.fail(f"{module} is needed under CI=true (pip install -e '.[autolog-test]'): {error}")
        pytest.skip(f"{module} is not installed: pip install -e '.[autolog-test]'")
