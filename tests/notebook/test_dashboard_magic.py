"""%nbtrack dashboard works twice and after a report."""

from __future__ import annotations

from nb_helpers import plain

LOAD = "%load_ext nbtrack\nimport nbtrack"
TRACKED = "%%track experiment=qa\ny = x + 1"


def test_nbtrack_dashboard_magic_twice_and_after_a_report(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    assert kernel.execute("x = 1").status == "ok"
    assert kernel.execute(TRACKED).status == "ok"
    for code in ("%nbtrack dashboard", "%nbtrack dashboard", "nbtrack.report('qa', 'r.html')",
                 "board = nbtrack.dashboard('qa'); print(board.state.total)"):
        reply = kernel.execute(code)
        assert reply.status == "ok", (code, plain(reply.text))
    assert reply.stdout.strip() == "1"
