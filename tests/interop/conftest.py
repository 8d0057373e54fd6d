"""Fixtures for the interop tests: an isolated store, and the real MLflow in its own virtualenv.

MLflow pins versions nbtrack does not, so it lives in ``benchmarks/.venv-mlflow`` (made by
``.ci/test``; ``benchmarks/bench_core.py`` and ``bench_mlflow_compat.py`` use the same one), or
the interpreter named by ``NBTRACK_MLFLOW_PYTHON``. The tests talk to it only through child
processes running the scripts in ``mlflow_scripts/``. Without it the tests that need it are
skipped, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from interop_helpers import REPO, mlflow_env

IN_CI = os.environ.get("CI", "").lower() == "true"
VENV_PYTHON = REPO / "benchmarks" / ".venv-mlflow" / "bin" / "python"


def _core_conftest():
    """tests/core/conftest.py, loaded under its own name: its PostgreSQL server fixture serves here too
    (its own helper modules found after everything else on the path, also when tests/interop runs alone)."""
    if str(REPO / "tests" / "core") not in sys.path:
        sys.path.append(str(REPO / "tests" / "core"))
    spec = importlib.util.spec_from_file_location("nbtrack_core_conftest", REPO / "tests" / "core" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_core = _core_conftest()
isolated, postgres_server, postgres_uri = _core.isolated, _core.postgres_server, _core.postgres_uri


@pytest.fixture(autouse=True)
def fresh_mlflow_state(isolated):
    """Besides core's ``isolated`` (own cwd and SQLite store, no active run left): no active MLflow experiment."""
    from nbtrack.mlflow import lifecycle

    lifecycle.state.active_experiment = None
    yield
    lifecycle.state.active_experiment = None


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"real MLflow is needed under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mlflow_python() -> str:
    """A Python interpreter with the real mlflow installed (never this one: nbtrack's env has no mlflow)."""
    python = os.environ.get("NBTRACK_MLFLOW_PYTHON") or str(VENV_PYTHON)
    if not os.path.exists(python):
        _unavailable(f"no MLflow virtualenv at {python}: python -m venv benchmarks/.venv-mlflow && "
                     "benchmarks/.venv-mlflow/bin/pip install 'mlflow>=3,<4' (or set NBTRACK_MLFLOW_PYTHON)")
    check = subprocess.run([python, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True,
                           text=True, env=mlflow_env())
    if check.returncode != 0:
        _unavailable(f"{python} cannot import mlflow: {check.stderr.strip()[-300:]}")
    return python


@pytest.fixture
def mlflow_postgres_uri(postgres_uri):
    """A fresh PostgreSQL database, as MLflow names it (``postgresql://``: MLflow picks its own driver)."""
    return postgres_uri.replace("postgresql+psycopg://", "postgresql://")
