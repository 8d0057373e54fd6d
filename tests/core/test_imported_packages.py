"""Every run records the packages it imported, also one that shares a recent environment capture."""

from __future__ import annotations

import nbtrack


def test_every_run_in_a_burst_records_imported_packages(isolated):
    ids = []
    for i in range(4):  # well within the 5 s shared-capture window
        with nbtrack.track(name=f"r{i}") as run:
            nbtrack.log_metric("m", i)
        ids.append(run.run_id)
    for run_id in ids:
        record = nbtrack.get_run(run_id)
        packages = record.document("imported_packages")
        assert packages, run_id
        assert "sqlalchemy" in {name.lower() for name in packages}  # the store imported it
