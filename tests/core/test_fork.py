"""Forked workers do not log into a copy of the parent's run."""

from __future__ import annotations

import nbtrack


def test_forked_workers_do_not_log_into_a_copy_of_the_parents_run(isolated):
    """A forked child saw the parent's run as active: its points went to a copy nobody wrote
    (silently lost), and it could not start a run of its own (ActiveRunError)."""
    import multiprocessing

    from nbtrack.errors import NoActiveRunError

    context = multiprocessing.get_context("fork")
    with nbtrack.track("parent") as parent:
        nbtrack.log_metric("p", 1.0)
        with context.Pool(2) as pool:
            outcomes = pool.map(_forked_worker, range(3))
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
