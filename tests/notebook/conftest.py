"""Fixtures: a SQLite store file per test, read from the test process, and real kernels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import nbtrack
from nbtrack import config

from nb_kernel import Kernel, kernel_env

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """Text without terminal colours."""
    return ANSI.sub("", text)


@pytest.fixture
def store_uri(tmp_path, monkeypatch) -> str:
    """A fresh SQLite store file; the test process reads the same store."""
    uri = f"sqlite:///{tmp_path / 'store' / 'nbtrack.db'}"
    monkeypatch.setenv("NBTRACK_STORE", uri)
    monkeypatch.delenv("NBTRACK_ARTIFACTS", raising=False)
    config.set_store(None)
    config.set_experiment(None)
    yield uri
    config.set_store(None)


@pytest.fixture
def workdir(tmp_path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def start_kernel(workdir, store_uri):
    """``start_kernel(**env)`` starts a kernel in ``workdir`` writing to the test's store."""
    kernels: list[Kernel] = []

    def start(**env: str) -> Kernel:
        kernel = Kernel(workdir, kernel_env(store_uri, **env))
        kernels.append(kernel)
        return kernel

    yield start
    for kernel in kernels:
        kernel.shutdown()


def all_runs(**kwargs):
    """Runs in the test's store, oldest first."""
    frame = nbtrack.runs(order_by="start_time ASC", **kwargs)
    return [nbtrack.get_run(run_id) for run_id in frame["run_id"]]
