"""The load test, short: 20 writers (10 direct, 10 through background sync, one of those also synced by
hand in a loop) and 5 readers on one PostgreSQL store at once; every point counted. The full version
is benchmarks/bench_load.py (90 s by default)."""

from __future__ import annotations

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from bench_load import run_load  # noqa: E402


@pytest.mark.postgres
def test_twenty_writers_and_five_readers_lose_nothing_and_store_nothing_twice(postgres_uri, tmp_path):
    outcome = run_load(postgres_uri, str(tmp_path), seconds=5, writers=20, readers=5)
    assert outcome["failures"] == [] and outcome["reader_errors"] == []
    assert outcome["runs"] >= 20 and outcome["points"] >= 20 * 300
    assert outcome["lost"] == 0 and outcome["duplicated"] == 0 and outcome["unexpected_runs"] == 0
    assert outcome["stored_points"] == outcome["points"] and outcome["not_finished"] == 0
    assert outcome["reader_queries"] >= 5
