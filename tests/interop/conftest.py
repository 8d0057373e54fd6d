"""Fixtures for the interop tests: an isolated store, and the real MLflow in its own virtualenv.

MLflow pins versions nbtrack does not, so it lives in ``benchmarks/.venv-mlflow`` (made by
``.ci/test``; ``benchmarks/bench_core.py`` and ``bench_mlflow_compat.py`` use the same one), or
the interpreter named by ``NBTRACK_MLFLOW_PYTHON``. The tests talk to it only through child
processes running the scripts in ``mlflow_scripts/``. Without it the tests that need it are
skipped, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbtrack import config
from nbtrack.run import _active

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "mlflow_scripts"
IN_CI = os.environ.get("CI", "").lower() == "true"
VENV_PYTHON = REPO / "benchmarks" / ".venv-mlflow" / "bin" / "python"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own cwd and SQLite store, and leaves no active run behind."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBTRACK_STORE", f"sqlite:///{tmp_path / 'store' / 'nbtrack.db'}")
    monkeypatch.delenv("NBTRACK_ARTIFACTS", raising=False)
    config.set_store(None)
    config.set_experiment(None)
    import nbtrack.mlflow as shim

    shim._active_experiment = None
    yield tmp_path
    for run in list(reversed(_active)):
        run.end()
    config.set_store(None)
    config.set_experiment(None)
    shim._active_experiment = None


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


def mlflow_env() -> dict[str, str]:
    """The environment of a real-MLflow child: no PYTHONPATH (nbtrack is not on it), file store allowed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("NBTRACK_")}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    env["MPLBACKEND"] = "Agg"
    return env


def run_mlflow_script(python: str, script: str, *args: str, cwd: str | os.PathLike | None = None) -> dict:
    """Run ``mlflow_scripts/<script>`` with the real MLflow; returns the JSON it prints last."""
    result = subprocess.run([python, str(SCRIPTS / script), *args], capture_output=True, text=True,
                            env=mlflow_env(), cwd=cwd, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"{script} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def nbtrack_cli(*args: str, cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """``python -m nbtrack.cli ...`` in a child process, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "nbtrack.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)
