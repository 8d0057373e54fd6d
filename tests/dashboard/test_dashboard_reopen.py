"""The dashboard opens again: after its package was imported, twice, and after a report."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from dashboard_helpers import make_runs

REPO = Path(__file__).resolve().parents[2]


def test_dashboard_can_be_opened_again_after_its_package_was_imported(store):
    make_runs(3)
    import nbtrack.dashboards.widget  # what the first nbtrack.dashboard() call does

    first = nbtrack.dashboard("exp")
    second = nbtrack.dashboard("exp", filter="params.model = 'rf'")
    assert type(first).__name__ == type(second).__name__ == "Dashboard"
    assert first.state.total == 3 and second.state.total == 2
    assert callable(nbtrack.dashboards.figures.history_figure)
    assert inspect.isfunction(nbtrack.dashboard)  # the package no longer shadows the function


def test_dashboard_twice_and_after_report_in_a_fresh_interpreter(store, tmp_path):
    make_runs(3)
    code = ("import nbtrack\n"
            "a = nbtrack.dashboard('exp')\n"
            "b = nbtrack.dashboard('exp')\n"
            "nbtrack.report('exp', 'r.html')\n"
            "c = nbtrack.dashboard()\n"
            "print(a.state.total, b.state.total, c.state.total)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["NBTRACK_STORE"] = f"sqlite:///{store}"
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "3", "3"]
