"""``nbtrack demo`` works in a user data directory, never in the directory it is run from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from nb_kernel import REPO


def test_demo_leaves_the_current_directory_alone(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env.update(PYTHONPATH=str(REPO), XDG_DATA_HOME=str(data), NBTRACK_CEILING_DIRECTORIES=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "nbtrack.cli", "demo"], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in clone.iterdir()) == [".git"]  # no nbtrack-demo/, no .nbtrack/
    demo = data / "nbtrack" / "demo"
    assert (demo / "churn.ipynb").is_file() and (demo / ".nbtrack" / "nbtrack.db").is_file()
    assert str(demo / "churn.ipynb") in result.stdout  # the user is told where it went
    next_line = [line for line in result.stdout.splitlines() if line.startswith("next:")][-1]
    assert "jupyter lab" in next_line
    if shutil.which("jupyter-lab", path=env.get("PATH")) is None:
        assert "pip install jupyterlab" in next_line
