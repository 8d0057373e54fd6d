"""Warnings a tracked cell shows: undefined params, hidden state under --quiet."""

from __future__ import annotations

from nb_helpers import all_runs, plain, write_notebook

LOAD = "%load_ext nbtrack\nimport nbtrack"


def test_params_naming_an_undefined_variable_is_a_warning_like_metrics(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute("%%track params=lr,bach_size metrics=acc,ac\nlr = 0.1\nbatch_size = 32\nacc = 0.9")
    assert reply.status == "ok", plain(reply.text)
    (summary,) = [t for t in reply.mime("text/plain") if t.startswith("nbtrack: run")]
    assert "nbtrack: ⚠ param 'bach_size' is not defined after the cell" in summary.splitlines()
    assert "nbtrack: ⚠ metric 'ac' is not defined after the cell" in summary.splitlines()
    (run,) = all_runs()
    assert run.params == {"lr": 0.1} and run.metrics == {"acc": 0.9}


def test_quiet_still_warns_about_hidden_state_on_stderr(workdir, start_kernel):
    path = write_notebook(workdir / "quiet.ipynb", [
        ("code", "load", LOAD), ("code", "data", "x = 2"), ("code", "tracked", "%%track --quiet\ny = x + 1")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("x = 1", "data").status == "ok"  # the saved cell says x = 2
    reply = kernel.execute("%%track --quiet\ny = x + 1", "tracked")
    assert reply.status == "ok" and not [t for t in reply.mime("text/plain") if "nbtrack" in t]
    assert reply.stderr == ("nbtrack: hidden state: cell 1 was edited after it ran (In [2]): "
                            "the kernel's x comes from its old code\n")
    (run,) = all_runs()
    assert run.document("hidden_state")["matters"] is True
