"""Background sync in a real kernel: a %%track cell is written locally and mirrored while the kernel lives."""

from __future__ import annotations

import time

import nbtrack
from nbtrack import config


def test_a_tracked_cell_reaches_the_team_store_while_the_kernel_lives(start_kernel, tmp_path, store_uri):
    team = f"sqlite:///{tmp_path / 'team' / 'nbtrack.db'}"
    kernel = start_kernel(NBTRACK_SYNC_TO=team, NBTRACK_SYNC_INTERVAL="0.5", NBTRACK_USER="ana")
    assert kernel.execute("%load_ext nbtrack\nimport nbtrack").status == "ok"
    reply = kernel.execute(
        "%%track experiment=team\n"
        "lr = 0.1\n"
        "for step in range(300):\n"
        "    nbtrack.log_metric('loss', 1 / (step + 1), step=step)\n", cell_id="cell-1")
    assert reply.status == "ok" and "nbtrack:" not in reply.stderr, reply.text
    deadline = time.time() + 60
    found = None
    while time.time() < deadline:  # the kernel stays up: only its background thread can send the run
        if (tmp_path / "team" / "nbtrack.db").exists():
            config._stores.clear()
            nbtrack.set_store(team)
            frame = nbtrack.runs("team")
            if len(frame) and frame["status"][0] == "FINISHED" and frame["metrics.loss"][0] == 1 / 300:
                found = frame
                break
        time.sleep(0.5)
    assert found is not None, "the run never reached the team store"
    mirrored = nbtrack.get_run(found["run_id"][0])
    assert len(mirrored.metric_history("loss")) == 300 and mirrored.params["lr"] == 0.1
    assert mirrored.user == "ana" and mirrored.document("notebook") is not None
    nbtrack.set_store(store_uri)
    local = nbtrack.get_run(found["run_id"][0])
    assert local.params == mirrored.params and local.tags == mirrored.tags
    assert kernel.execute("1 + 1").status == "ok"  # still alive: nothing was sent by an exit
