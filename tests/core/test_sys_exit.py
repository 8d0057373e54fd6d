"""sys.exit inside a run sets the run's status from the exit code."""

from __future__ import annotations

import pytest

import nbtrack


@pytest.mark.parametrize("code, status", [(0, "FINISHED"), (None, "FINISHED"), (3, "FAILED"), ("bad", "FAILED")])
def test_sys_exit_inside_a_run(isolated, code, status):
    """sys.exit(0) inside `with nbtrack.track()` recorded a FAILED run with error 'SystemExit: 0'."""
    with pytest.raises(SystemExit):
        with nbtrack.track("exit") as run:
            nbtrack.log_metric("m", 1.0)
            raise SystemExit(code)
    record = nbtrack.get_run(run.run_id)
    assert record.status == status and record.metrics == {"m": 1.0}
    assert (record.error is None) == (status == "FINISHED")
