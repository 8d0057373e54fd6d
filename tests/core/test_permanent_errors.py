"""A row the store can never accept is reported once and set aside; the rest of the run is written."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import create_engine, text

import nbtrack
from nbtrack import journal


def _refuse_tag(uri: str, key: str) -> None:
    """A rule added by the store's administrator: no tag may be called ``key``."""
    engine = create_engine(uri)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(f"CREATE TRIGGER refuse_tag BEFORE INSERT ON tags WHEN NEW.key = '{key}' "
                                    "BEGIN SELECT RAISE(ABORT, 'tag refused by policy'); END"))
        else:
            connection.execute(text(f"ALTER TABLE tags ADD CONSTRAINT refuse_tag CHECK (key <> '{key}')"))
    engine.dispose()


def _dead_letters(uri: str) -> list[dict]:
    for directory in journal.directories(nbtrack.get_store().uri):
        path = f"{directory}/dead-letter.jsonl"
        try:
            with open(path) as handle:
                return [json.loads(line) for line in handle]
        except FileNotFoundError:
            continue
    return []


def test_one_refused_row_does_not_block_the_rest_of_the_run(store_uri, capfd):
    """A batch with a row the database refuses used to fail as a whole on every flush: the run
    stayed RUNNING with none of its later data."""
    nbtrack.get_store()
    _refuse_tag(store_uri, "forbidden")
    with nbtrack.track("policy", params={"lr": 0.1}) as run:
        for i in range(1000):
            nbtrack.log_metric("loss", 1.0 / (i + 1))
        nbtrack.set_tags({"ok": "yes", "forbidden": "no"})
        nbtrack.log_note("kept")
        nbtrack.flush()
        nbtrack.set_tag("forbidden", "again")  # reported once per run and key, not per flush
        nbtrack.log_metric("loss", 0.0)
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.params == {"lr": 0.1} and record.notes == "kept\n"
    assert len(record.metric_history("loss")) == 1001 and record.tags["ok"] == "yes"
    assert "forbidden" not in record.tags
    err = capfd.readouterr().err
    refused = [line for line in err.splitlines() if "refused" in line]
    assert len(refused) == 1, err
    assert f"tags 'forbidden' of run {run.run_id}" in refused[0] and "The rest of the run is written" in refused[0]
    letters = _dead_letters(store_uri)
    assert [(d["key"], d["row"][2]) for d in letters] == [("forbidden", "no"), ("forbidden", "again")]


def test_a_run_purged_while_it_logs_is_reported_once_and_others_are_written(store_uri, capfd):
    """The run was deleted and purged by gc meanwhile: its rows can never be written (foreign key)."""
    with nbtrack.track("purged") as doomed:
        nbtrack.log_metric("m", 1.0)
        nbtrack.flush()
        nbtrack.delete_run(doomed.run_id)
        nbtrack.get_store().collect_garbage(grace_seconds=0)
        for i in range(500):
            nbtrack.log_metric("m", float(i))
        nbtrack.log_note("lost cause")
    with nbtrack.track("next") as survivor:
        nbtrack.log_metric("m", 2.0)
    time.sleep(0.1)
    err = capfd.readouterr().err
    refused = [line for line in err.splitlines() if "refused" in line]
    assert refused and all(doomed.run_id in line for line in refused), err
    assert any("not in the store (deleted and purged" in line for line in refused)
    assert len([line for line in refused if "metrics 'm'" in line]) == 1
    assert nbtrack.get_run(survivor.run_id).metrics == {"m": 2.0}
    assert len([d for d in _dead_letters(store_uri) if d["part"] == "metrics"]) == 500


def test_a_summary_row_the_store_refuses_sets_aside_only_its_run(store_uri):
    """Each write rewrites its runs' summary rows with the driver's own cursor (the hot path). Its
    errors must reach salvage as the store's other errors do: a permanent refusal there used to
    escape as the driver's own exception, taken for a transient one, and blocked the whole batch."""
    from nbtrack.store.batch import Batch
    from nbtrack.store.salvage import write_salvaging

    store = nbtrack.get_store()
    good, bad = "a" * 32, "b" * 32
    engine = create_engine(store_uri)
    with engine.begin() as connection:  # the administrator's rule: run bad gets no summary row
        if engine.dialect.name == "sqlite":
            connection.execute(text(f"CREATE TRIGGER refuse_summary BEFORE INSERT ON run_summary "
                                    f"WHEN NEW.run_id = '{bad}' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            connection.execute(text(f"ALTER TABLE run_summary ADD CONSTRAINT refuse_summary CHECK (run_id <> '{bad}')"))
    engine.dispose()
    batch = Batch(creates=[(good, "policy", "good", time.time(), None), (bad, "policy", "bad", time.time(), None)],
                  params=[(good, "lr", "f", "0.1", 0.1), (bad, "lr", "f", "0.2", 0.2)])
    rejected = write_salvaging(store, batch)
    assert {r.run_id for r in rejected} == {bad} and rejected
    assert nbtrack.get_run(good).params == {"lr": 0.1}
    assert nbtrack.count_runs("policy") == 1


@pytest.mark.postgres
def test_a_connection_lost_in_the_summary_refresh_keeps_the_data(postgres_uri):
    """The same cursor losing its connection (here the server says so from a trigger) is the
    store being unavailable: the write raises StoreUnavailableError and the flusher keeps the data."""
    from nbtrack.errors import StoreUnavailableError
    from nbtrack.store.batch import Batch

    nbtrack.set_store(postgres_uri)
    store = nbtrack.get_store()
    engine = create_engine(postgres_uri.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("CREATE FUNCTION drop_summary() RETURNS trigger AS $$ BEGIN "
                                "RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006'; END $$ LANGUAGE plpgsql"))
        connection.execute(text("CREATE TRIGGER drop_summary BEFORE INSERT ON run_summary "
                                "FOR EACH ROW EXECUTE FUNCTION drop_summary()"))
    engine.dispose()
    with pytest.raises(StoreUnavailableError, match="connection lost"):
        store.write_batch(Batch(creates=[("c" * 32, "outage", "c", time.time(), None)]))
