"""Fixtures for the autolog tests: an isolated store per test, autolog off after each test,
and the frameworks (installed by .ci/test's autolog-test extra; a missing one fails under CI=true).
"""

from __future__ import annotations

import os
import warnings

import pytest

import nbtrack
from nbtrack import config
from nbtrack.run import _active

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on torch: no TensorFlow
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # later tests fork this process: no tokenizer threads


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test: its own cwd and SQLite store, autolog off and no active run afterwards."""
    from nbtrack.autolog import report

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBTRACK_STORE", f"sqlite:///{tmp_path / 'store' / 'nbtrack.db'}")
    monkeypatch.delenv("NBTRACK_ARTIFACTS", raising=False)
    config.set_store(None)
    config.set_experiment(None)
    report._reported.clear()
    yield tmp_path
    nbtrack.autolog(disable=True)
    for run in list(reversed(_active)):
        run.end()
    config.set_store(None)


@pytest.fixture
def runs():
    """``runs()``: every run of the test's store as RunRecords, oldest first."""
    def read(**kwargs):
        frame = nbtrack.runs(order_by="start_time ASC", **kwargs)
        return [nbtrack.get_run(run_id) for run_id in frame["run_id"]]
    return read


@pytest.fixture
def no_autolog_warnings():
    """Fail the test on any AutologWarning (autolog had a problem of its own)."""
    from nbtrack.autolog import AutologWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AutologWarning)
        yield caught
    problems = [str(w.message) for w in caught if issubclass(w.category, AutologWarning)]
    assert not problems, problems
