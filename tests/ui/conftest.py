"""Fixtures for ``nbtrack ui`` tests: stores with real runs, written before a server reads them.

The browser fixtures (``browser_page``: Debian's Chromium through Playwright) come from
tests/browser/conftest.py and ``postgres_uri`` (a fresh database) from tests/core/conftest.py, each loaded under
its own name.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from uiserver import REPO_ROOT, write_runs


def _load_conftest(folder: str):
    """tests/<folder>/conftest.py under its own module name, for its fixtures (its own helper
    modules found after everything else on the path)."""
    if str(REPO_ROOT / "tests" / folder) not in sys.path:
        sys.path.append(str(REPO_ROOT / "tests" / folder))
    spec = importlib.util.spec_from_file_location(f"nbtrack_{folder}_conftest",
                                                  REPO_ROOT / "tests" / folder / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_browser = _load_conftest("browser")
_chromium, browser_page = _browser._chromium, _browser.browser_page
pytest_runtest_makereport = _browser.pytest_runtest_makereport
_core = _load_conftest("core")
postgres_server, postgres_uri = _core.postgres_server, _core.postgres_uri  # a throw-away PostgreSQL cluster


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    """A SQLite store with 12 runs (URI, run ids)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('ui-store') / 'nbtrack.db'}"
    return uri, write_runs(uri)
