"""Forked workers (multiprocessing's fork start method) and nbtrack runs.

A child does not log into a copy of the parent's run; a child forked while the parent was
writing does not hang on the store's locks (SQLite keeps lock state in process memory that a
child inherits); a child never uses or closes the parent's PostgreSQL connections.
Every wait on a child is bounded: a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest

import nbtrack
from nbtrack.errors import NoActiveRunError

FORK = multiprocessing.get_context("fork")
HANG = 120  # seconds: far beyond what a round takes on a loaded machine; a hang fails, it never stalls


def test_forked_workers_do_not_log_into_a_copy_of_the_parents_run(isolated):
    """A forked child saw the parent's run as active: its points went to a copy nobody wrote
    (silently lost), and it could not start a run of its own (ActiveRunError)."""
    with nbtrack.track("parent") as parent:
        nbtrack.log_metric("p", 1.0)
        with FORK.Pool(2) as pool:
            outcomes = pool.map_async(_forked_worker, range(3)).get(HANG)
        nbtrack.log_metric("p", 2.0)
    assert [outcome[0] for outcome in outcomes] == [NoActiveRunError.__name__] * 3
    record = nbtrack.get_run(parent.run_id)
    assert record.status == "FINISHED" and list(record.metric_history("p")["value"]) == [1.0, 2.0]
    for i, (_, run_id) in enumerate(outcomes):
        child = nbtrack.get_run(run_id)
        assert child.experiment == "worker" and child.parent_run_id is None
        assert child.params == {"i": i} and child.metrics == {"w": float(i)}
        assert child.environment.get("python"), child.environment  # its capture did not hang


def _forked_worker(i):
    try:
        nbtrack.log_metric("w", i)
        error = "none"
    except Exception as exc:
        error = type(exc).__name__
    with nbtrack.track("worker", params={"i": i}) as run:
        nbtrack.log_metric("w", i)
    return error, run.run_id


_parent_run = None


def test_a_child_logging_through_the_parents_run_object_is_told_instead_of_losing_it(isolated):
    """``run.log_metric`` in a forked worker buffered into the child's copy of the run, which
    nobody ever writes: the points were silently lost. Now it raises and says what to do."""
    global _parent_run
    from nbtrack.errors import ForkedRunError

    with nbtrack.track("parent", system_metrics=False) as _parent_run:
        with FORK.Pool(2) as pool:
            messages = pool.map_async(_log_through_parent_object, range(2)).get(HANG)
        _parent_run.log_metric("p", 1.0)  # the parent's own object still logs
    for message in messages:
        assert message.startswith(ForkedRunError.__name__), message
        assert _parent_run.run_id[:8] in message and "nbtrack.track" in message
    assert nbtrack.get_run(_parent_run.run_id).metrics == {"p": 1.0}


def _log_through_parent_object(i):
    outcomes = []
    for log in (lambda: _parent_run.log_metric("fold", i), lambda: _parent_run.log_params({"i": i}),
                lambda: _parent_run.set_tag("t", "x")):
        try:
            log()
            outcomes.append("logged")
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
    assert len(set(o.split(":")[0] for o in outcomes)) == 1, outcomes
    return outcomes[0]


CHILD_POINTS = 30


def test_children_forked_while_the_parent_writes_do_not_hang(store_uri):
    """A child forked while a thread of the parent was inside a write transaction inherited
    SQLite's record of that write lock: its BEGIN IMMEDIATE waited out the 60 s busy timeout.
    Here the parent logs and flushes without pause in a thread while its pool forks again and
    again (one task per child), and the children's runs write meanwhile: every child finishes,
    every point of both sides is stored."""
    stop = threading.Event()
    with nbtrack.track("parent", system_metrics=False) as parent:
        logged = []

        def log_and_flush():
            while not stop.is_set():
                parent.log_metric("p", len(logged))
                logged.append(1)
                if len(logged) % 20 == 0:
                    nbtrack.flush()

        writer = threading.Thread(target=log_and_flush, daemon=True)
        writer.start()
        try:
            with FORK.Pool(3, maxtasksperchild=1) as pool:  # a fork per task, from the pool's own thread
                run_ids = pool.map_async(_child_run, range(18), chunksize=1).get(HANG)
        finally:
            stop.set()
            writer.join(HANG)
    assert len(set(run_ids)) == 18
    stored = nbtrack.runs("child")
    assert len(stored) == 18 and set(stored["status"]) == {"FINISHED"}
    for run_id in run_ids:
        history = nbtrack.get_run(run_id).metric_history("w")
        assert list(history["step"]) == list(range(CHILD_POINTS))
    record = nbtrack.get_run(parent.run_id)
    assert record.status == "FINISHED" and len(record.metric_history("p")) == len(logged) > 0


def _child_run(i):
    with nbtrack.track("child", params={"i": i}, system_metrics=False) as run:
        for step in range(CHILD_POINTS):
            nbtrack.log_metric("w", step * i)
            if step % 10 == 9:
                nbtrack.flush()
    return run.run_id


_inherited_store = None


@pytest.mark.postgres
def test_children_never_use_or_close_the_parents_postgresql_connection(postgres_uri):
    """A store object the child inherited handed it the parent's pooled connection: two
    processes talking on one PostgreSQL session. The children get connections of their own and
    the parent's session survives them (same server process before and after)."""
    global _inherited_store
    nbtrack.set_store(postgres_uri)
    _inherited_store = nbtrack.get_store()
    with nbtrack.track("parent", system_metrics=False) as parent:
        nbtrack.log_metric("p", 1.0)
    parent_backend = _backend_pid(_inherited_store)
    with FORK.Pool(2) as pool:
        child_backends = pool.map_async(_child_backend, range(4), chunksize=1).get(HANG)
    assert parent_backend not in child_backends
    assert _backend_pid(_inherited_store) == parent_backend
    assert nbtrack.get_run(parent.run_id).metrics == {"p": 1.0}
    assert len(nbtrack.runs("child")) == 4


def _backend_pid(store):
    with store.read() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def _child_backend(i):
    with nbtrack.track("child", params={"i": i}, system_metrics=False):
        nbtrack.log_metric("w", i)
    assert _inherited_store.schema_version() > 0
    return _backend_pid(_inherited_store)
