"""The per-run summary row behind runs(): it always says what the params, latest_metrics and tags
tables say, whatever wrote them (logging over several flushes, edits, a batch written twice,
another process), and a store made before it existed gets its rows when it is opened."""

from __future__ import annotations

import math
import time
import uuid

import pytest

import nbtrack
from nbtrack import config
from nbtrack.store.batch import Batch
from nbtrack.store.schema import SCHEMA_VERSION
from nbtrack.store.sql import SqlStore


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def assert_summaries_match_tables(experiment: str | None = None) -> None:
    """Each runs() row holds exactly the params, metrics and tags get_run reads from the tables."""
    frame = nbtrack.runs(experiment, include_deleted=True)
    assert len(frame)
    for row in frame.to_dict("records"):
        record = nbtrack.get_run(row["run_id"])
        for prefix, stored in (("params", record.params), ("metrics", record.metrics), ("tags", record.tags)):
            for key, value in stored.items():
                assert same(row[f"{prefix}.{key}"], value), (prefix, key, row[f"{prefix}.{key}"], value)
            others = [c for c in row if c.startswith(prefix + ".") and c[len(prefix) + 1:] not in stored]
            assert all(missing(row[c]) for c in others), (prefix, {c: row[c] for c in others})


def test_the_summary_follows_logging_over_several_flushes_and_edits(store_uri):
    with nbtrack.track("sum", params={"lr": 0.1, "layers": [64, 32], "cfg": {"a": None}, "flag": True}) as run:
        nbtrack.log_metric("loss", 1.0)
        nbtrack.flush()
        nbtrack.log_metric("loss", 0.5)
        nbtrack.log_metric("acc", float("nan"))
        nbtrack.log_metric("big", float("inf"))
        nbtrack.set_tag("stage", "dev")
        nbtrack.log_param("n", 10**30)
        nbtrack.flush()
        nbtrack.log_param("text", 'quote " and \\ backslash\nnewline ünï')
        nbtrack.log_param("odd", {"a": [float("inf"), 2**70, "NaN"], "b": -(2**63)})
        nbtrack.log_metric("low", float("-inf"))
    with nbtrack.track("sum", name="a-other", params={"lr": float("nan")}) as other:
        nbtrack.log_metric("loss", -0.0)
    assert_summaries_match_tables("sum")
    row = nbtrack.runs("sum", run_ids=[run.run_id]).iloc[0]
    assert row["metrics.loss"] == 0.5 and math.isnan(row["metrics.acc"]) and row["metrics.big"] == math.inf
    assert row["params.layers"] == [64, 32] and row["params.cfg"] == {"a": None} and row["params.n"] == 10**30
    assert bool(row["params.flag"]) is True and row["tags.stage"] == "dev"
    assert row["params.odd"] == {"a": [math.inf, 2**70, "NaN"], "b": -(2**63)} and row["metrics.low"] == -math.inf

    nbtrack.tag_run(run.run_id, {"stage": "prod", "reviewed": "yes"})
    nbtrack.get_store().delete_tag(other.run_id, "nbtrack.source")
    nbtrack.rename_run(run.run_id, "renamed")
    nbtrack.note_run(run.run_id, "a note")
    nbtrack.delete_run(other.run_id)
    assert_summaries_match_tables("sum")
    nbtrack.restore_run(other.run_id)
    frame = nbtrack.runs("sum", order_by="name")
    assert [None if missing(v) else v for v in frame["tags.stage"]] == [None, "prod"]
    assert [None if missing(v) else v for v in frame["tags.reviewed"]] == [None, "yes"]
    assert "nbtrack.source" not in {k for k in nbtrack.get_run(other.run_id).tags}


def test_a_batch_written_twice_leaves_the_same_summary(store_uri):
    """A journal replay or a retried commit writes a batch again: the row is recomputed, not merged."""
    store = nbtrack.get_store()
    run_id = uuid.uuid4().hex
    now = time.time()
    store.write_batch(Batch(creates=[(run_id, "twice", "r", now, None)]))
    batch = Batch(params=[(run_id, "p", "i", "1", 1.0)], tags=[(run_id, "t", "x")],
                  metrics=[(run_id, "m", 0, 0.25, now)], latest={(run_id, "m"): (0, 0.25, now)})
    store.write_batch(Batch(tags=[(run_id, "later", "kept")]))
    for _ in range(2):
        store.write_batch(batch)
    assert_summaries_match_tables("twice")
    row = nbtrack.runs("twice").iloc[0]
    assert (row["params.p"], row["metrics.m"], row["tags.t"], row["tags.later"]) == (1, 0.25, "x", "kept")


def test_a_version_2_store_gets_its_summary_rows_when_upgraded(store_uri):
    """SQLite upgrades itself when opened; PostgreSQL through `nbtrack db upgrade` (SqlStore.upgrade_schema)."""
    from old_schemas import add_old_run, create_old_store
    from sqlalchemy import create_engine, text

    config._stores.clear()
    create_old_store(store_uri, 2)
    add_old_run(store_uri, "a" * 32, [("loss", 1, 0.5, 10.0), ("loss", 2, 0.25, 11.0), ("acc", 1, 0.9, 10.0)])
    add_old_run(store_uri, "b" * 32, [])
    engine = create_engine(store_uri)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO params VALUES (:r, 'lr', 'f', '0.1', 0.1), "
                                "(:r, 'model', 's', 'rf', NULL)"), {"r": "a" * 32})
        connection.execute(text("INSERT INTO tags VALUES (:r, 'stage', 'prod')"), {"r": "b" * 32})
    engine.dispose()
    if store_uri.startswith("postgresql"):
        SqlStore(store_uri, check_schema=False).upgrade_schema()
    nbtrack.set_store(store_uri)
    assert nbtrack.get_store().schema_version() == SCHEMA_VERSION
    frame = nbtrack.runs("old", order_by="run_id")
    assert list(frame["run_id"]) == ["a" * 32, "b" * 32]
    assert (frame["params.lr"][0], frame["params.model"][0], frame["metrics.loss"][0]) == (0.1, "rf", 0.25)
    assert frame["tags.stage"][1] == "prod" and missing(frame["params.lr"][1])
    assert_summaries_match_tables("old")


def test_gc_removes_the_summary_rows_of_purged_runs(store_uri):
    with nbtrack.track("gc", params={"a": 1}) as run:
        pass
    nbtrack.delete_run(run.run_id)
    nbtrack.get_store().collect_garbage(grace_seconds=0)
    from sqlalchemy import func, select

    from nbtrack.store import schema as s

    with nbtrack.get_store().read() as connection:
        assert connection.execute(select(func.count()).select_from(s.run_summary)).scalar_one() == 0


@pytest.mark.postgres
def test_concurrent_writers_of_one_run_both_reach_its_summary(postgres_uri):
    """Two transactions tag the same run at once. Without a lock the later one computed its summary
    row before the earlier one committed, then overwrote the row: the earlier tag was lost."""
    import threading

    from nbtrack.store import schema as s
    from nbtrack.store.summary import refresh_summaries

    nbtrack.set_store(postgres_uri)
    with nbtrack.track("race") as run:
        pass
    first, second = SqlStore(postgres_uri), SqlStore(postgres_uri)
    late = threading.Thread(target=second.write_batch, args=(Batch(tags=[(run.run_id, "b", "x")]),))
    with first.write() as connection:
        connection.execute(s.tags.insert().values(run_id=run.run_id, key="a", value="x"))
        refresh_summaries(connection, [run.run_id])
        late.start()
        time.sleep(1.0)  # the second writer has written its tag and waits for this transaction
    late.join()
    first.close()
    second.close()
    row = nbtrack.runs("race").iloc[0]
    assert (row["tags.a"], row["tags.b"]) == ("x", "x")


def test_summarize_counts_distinct_values_as_filters_compare_them(store_uri):
    """NaN is one value (as the old COUNT(DISTINCT text) said), 1 and 1.0 are one value (as the filter
    params.x = 1 matches both), lists and dicts count by content; a metric that is NaN everywhere has
    no range."""
    for lr, layers, x in [(float("nan"), [1, 2], 1), (float("nan"), [1, 2], 1.0), (0.1, {"a": 1}, 2)]:
        with nbtrack.track("distinct", params={"lr": lr, "layers": layers, "x": x}):
            nbtrack.log_metric("loss", float("nan"))
            nbtrack.log_metric("acc", x)
    summary = nbtrack.summarize_runs("distinct")
    assert (summary.params["lr"], summary.params["layers"], summary.params["x"]) == (2, 2, 2)
    assert summary.metrics["loss"] == (None, None) and summary.metrics["acc"] == (1.0, 2.0)
