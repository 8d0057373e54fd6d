"""Helpers of the interop tests: the real trackers' Python (child processes) and the nbtrack CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "mlflow_scripts"


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
