"""Store discovery: a kernel in a notebook's folder and a terminal at the project root share one store.

Every test runs the real console script or a real Python process in a real directory tree, with
``NBTRACK_STORE`` unset and ``NBTRACK_CEILING_DIRECTORIES`` set to the test's tmp_path so the
upward search can never reach a stray ``.nbtrack/`` above it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NBTRACK_STORE", "NBTRACK_ARTIFACTS", "JPY_SESSION_NAME")}
    env.update(PYTHONPATH=str(REPO), NBTRACK_CEILING_DIRECTORIES=str(tmp_path.parent), HOME=str(tmp_path / "home"))
    env.update(extra)
    return env


def cli(cwd: Path, tmp_path: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbtrack.cli", *argv], cwd=cwd, capture_output=True, text=True,
                          env=_env(tmp_path, **extra), timeout=120)


def track(cwd: Path, tmp_path: Path, name: str = "r", **extra: str) -> str:
    code = ("import nbtrack\nwith nbtrack.track(name=%r) as run:\n    nbtrack.log_metric('acc', 0.5)\n"
            "print(run.run_id)\n" % name)
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                            env=_env(tmp_path, **extra), timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "notebooks" / "deep").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_run_in_notebook_folder_is_found_from_project_root(project, tmp_path):
    run_id = track(project / "notebooks" / "deep", tmp_path)
    assert (project / ".nbtrack" / "nbtrack.db").is_file()  # created at the git root
    assert not (project / "notebooks" / "deep" / ".nbtrack").exists()
    shown = cli(project, tmp_path, "show", run_id[:8])
    assert shown.returncode == 0, shown.stderr
    assert run_id in shown.stdout


def test_nearest_store_wins_walking_up(project, tmp_path):
    (project / "notebooks" / ".nbtrack").mkdir()
    run_id = track(project / "notebooks" / "deep", tmp_path)
    assert (project / "notebooks" / ".nbtrack" / "nbtrack.db").is_file()
    assert not (project / ".nbtrack").exists()
    assert run_id[:8] in cli(project / "notebooks", tmp_path, "ls").stdout
    assert "nbtrack.db" in cli(project, tmp_path, "ls").stderr  # the root has no store of its own


def test_without_git_a_store_goes_in_the_working_directory(tmp_path):
    (tmp_path / "home").mkdir()
    plain = tmp_path / "plain"
    plain.mkdir()
    track(plain, tmp_path)
    assert (plain / ".nbtrack" / "nbtrack.db").is_file()


def test_search_stops_at_the_git_root(project, tmp_path):
    (tmp_path / ".nbtrack").mkdir()  # a store outside the repository belongs to another project
    track(project / "notebooks", tmp_path, NBTRACK_CEILING_DIRECTORIES="")
    assert (project / ".nbtrack" / "nbtrack.db").is_file()
    assert not (tmp_path / ".nbtrack" / "nbtrack.db").exists()


def test_home_store_is_not_used_by_projects_below_home(tmp_path):
    home = tmp_path / "home"
    (home / ".nbtrack").mkdir(parents=True)
    (home / "work").mkdir()
    track(home / "work", tmp_path)
    assert (home / "work" / ".nbtrack" / "nbtrack.db").is_file()
    assert not (home / ".nbtrack" / "nbtrack.db").exists()


def test_jupyter_relative_session_name_gives_the_server_root(tmp_path):
    (tmp_path / "home").mkdir()
    server_root = tmp_path / "server"
    (server_root / "a" / "b").mkdir(parents=True)
    track(server_root / "a" / "b", tmp_path, JPY_SESSION_NAME="a/b/nb.ipynb")
    assert (server_root / ".nbtrack" / "nbtrack.db").is_file()


def test_environment_variable_still_wins(project, tmp_path):
    chosen = tmp_path / "chosen.db"
    run_id = track(project / "notebooks", tmp_path, NBTRACK_STORE=str(chosen))
    assert chosen.is_file() and not (project / ".nbtrack").exists()
    assert run_id[:8] in cli(project, tmp_path, "ls", NBTRACK_STORE=str(chosen)).stdout


@pytest.mark.parametrize("argv", [["ls"], ["show", "abc"], ["diff", "a", "b"], ["export"], ["experiments"],
                                  ["checkout", "abc"]])
def test_read_only_commands_never_create_a_store(project, tmp_path, argv):
    result = cli(project / "notebooks", tmp_path, *argv)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "no nbtrack store found" in lines[0] and str(project / "notebooks") in lines[0]
    assert not list(tmp_path.rglob(".nbtrack"))


def test_missing_configured_store_is_named_and_not_created(tmp_path):
    missing = tmp_path / "nowhere" / "x.db"
    result = cli(tmp_path, tmp_path, "--store", str(missing), "ls")
    assert result.returncode == 1 and str(missing) in result.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_run_not_found_names_the_store(project, tmp_path):
    track(project, tmp_path)
    result = cli(project, tmp_path, "checkout", "ffffffff")
    assert result.returncode == 1
    assert "no run with id or prefix" in result.stderr
    assert str(project / ".nbtrack" / "nbtrack.db") in result.stderr
