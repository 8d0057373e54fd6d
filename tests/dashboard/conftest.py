"""Fixtures for dashboard tests: a fresh SQLite store with real runs in it."""

from __future__ import annotations

import pytest
from dashboard_helpers import make_runs

import nbtrack


@pytest.fixture(autouse=True)
def summaries_in_line(monkeypatch):
    """Reloads wait for their summary: what a test reads right after a change is complete.
    (The rows-first path is tested on its own, with a wait of 0.)"""
    from nbtrack.dashboards import summaries

    monkeypatch.setattr(summaries, "SUMMARY_WAIT", None)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty SQLite store in a temp dir, active for this test only."""
    monkeypatch.delenv("NBTRACK_STORE", raising=False)
    monkeypatch.delenv("NBTRACK_ARTIFACTS", raising=False)
    monkeypatch.chdir(tmp_path)
    nbtrack.set_store(tmp_path / "nbtrack.db")
    yield tmp_path / "nbtrack.db"
    active = nbtrack.active_run()
    while active is not None:
        active.end()
        active = nbtrack.active_run()
    nbtrack.set_store(None)


@pytest.fixture
def runs12(store):
    return make_runs(12)
