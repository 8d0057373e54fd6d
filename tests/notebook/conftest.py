"""Fixtures: a SQLite store file per test, read from the test process, and real kernels."""

from __future__ import annotations

from pathlib import Path

import pytest
from nb_kernel import Kernel, kernel_env

from nbtrack import config


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
