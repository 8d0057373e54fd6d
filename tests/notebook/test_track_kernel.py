"""%%track in a real kernel, driven as JupyterLab drives it, writing to a real SQLite file."""

from __future__ import annotations

import json
import time

from nb_helpers import all_runs, plain, write_notebook

import nbtrack

LOAD = "%load_ext nbtrack"

TRACKED = """%%track experiment=churn tags=team:ml metrics=acc
lr = 0.1
layers = (64, 32)
model_name = "rf"
for epoch in range(3):
    nbtrack.log_metric("loss", 1.0 / (epoch + 1))
acc = 0.75
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
from IPython.display import HTML, display
display(HTML("<table><tr><td>cell &amp; value</td></tr></table>"))
print("done")
lr * 10"""


def churn_notebook(workdir):
    return write_notebook(workdir / "exp.ipynb", [
        ("markdown", "md-1", "# Churn\nA tracked cell below."),
        ("code", "load", LOAD),
        ("code", "imports", "import nbtrack"),
        ("code", "tracked", TRACKED),
        ("raw", "raw-1", "raw text"),
    ])


def test_tracked_cell_records_params_metrics_outputs_snapshot_and_history(workdir, start_kernel):
    path = churn_notebook(workdir)
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("import nbtrack", "imports").status == "ok"
    reply = kernel.execute(TRACKED, "tracked")

    # what the user sees: the cell's own outputs, unchanged, then one summary line
    assert reply.status == "ok", reply.text
    assert "done" in reply.stdout
    assert reply.mime("image/png"), "the matplotlib figure is still shown"
    assert any("<table>" in html for html in reply.mime("text/html"))
    assert any(o["output_type"] == "execute_result" and o["data"]["text/plain"] == "1.0" for o in reply.outputs)
    (run,) = all_runs()
    summary = [t for t in reply.mime("text/plain") if t.startswith("nbtrack: run")]
    assert len(summary) == 1 and run.run_id[:8] in summary[0] and "churn" in summary[0]
    assert "3 params, 2 metrics" in summary[0] and "%nbtrack dashboard" in summary[0]
    assert summary[0].count("\n") == 0, "one line when nothing hidden matters"

    # what was persisted
    assert run.experiment == "churn" and run.status == "FINISHED"
    assert run.params == {"layers": [64, 32], "lr": 0.1, "model_name": "rf"}
    assert run.metrics["acc"] == 0.75 and abs(run.metrics["loss"] - 1 / 3) < 1e-9
    assert list(run.metric_history("loss")["step"]) == [0, 1, 2]
    assert run.tags["team"] == "ml"
    assert run.tags["nbtrack.cell"] == "tracked"
    assert run.tags["nbtrack.notebook"] == str(path)
    assert run.tags["nbtrack.source"] == "notebook"
    names = {a.name for a in run.artifacts}
    assert "notebook.py" in names
    pngs = [a for a in run.artifacts if a.name.endswith(".png")]
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(b"\x89PNG")
    tables = [a for a in run.artifacts if a.name.endswith(".html")]
    assert len(tables) == 1 and "cell &amp; value" in tables[0].read_text()

    snapshot = run.artifact("notebook.py").read_text()
    assert "# %% [markdown]\n# # Churn" in snapshot
    assert "# %%track experiment=churn tags=team:ml metrics=acc\nlr = 0.1" in snapshot
    assert "# %% [raw]\n# raw text" in snapshot
    notebook = run.document("notebook")
    assert notebook["source"] == "disk" and notebook["path"] == str(path)
    assert notebook["cell_index"] == 3 and notebook["cell_id"] == "tracked"
    assert notebook["cell_ids"] == ["md-1", "load", "imports", "tracked", "raw-1"]
    assert notebook["stale"] is False

    executions = run.document("history")["executions"]
    assert [(e["execution_count"], e["cell_id"]) for e in executions] == [(1, "load"), (2, "imports"), (3, "tracked")]
    assert executions[2]["source"] == TRACKED

    cell = run.document("cell")
    assert cell["source"] == TRACKED and cell["id"] == "tracked" and cell["execution_count"] == 3
    assert cell["stdout"] == "done\n"
    kinds = [o["output_type"] for o in cell["outputs"]]
    assert kinds.count("display_data") == 2 and kinds.count("execute_result") == 1
    hidden = run.document("hidden_state")
    assert hidden["matters"] is False and hidden["never_executed"] == []


def test_failing_cell_is_failed_shows_normal_traceback_and_stops_run_all(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    first = kernel.send("%%track experiment=errs\nx = 1\n\nraise ValueError('bad input')")
    queued = kernel.send("print('must not run')")
    reply = kernel.collect(first)
    after = kernel.collect(queued)

    assert reply.status == "error" and reply.ename == "ValueError" and reply.evalue == "bad input"
    traceback = plain("\n".join(reply.traceback))
    assert "Cell In[2], line 4" in traceback and "raise ValueError('bad input')" in traceback
    assert "nbtrack" not in traceback and "run_cell_magic" not in traceback, traceback
    errors = [o for o in reply.outputs if o["output_type"] == "error"]
    assert len(errors) == 1, "the traceback is shown once"
    assert after.status != "ok" and "must not run" not in after.stdout, "Run All stops after the failing cell"
    kernel.settle()

    (run,) = all_runs()
    assert run.status == "FAILED" and run.experiment == "errs"
    assert run.error["type"] == "ValueError" and "bad input" in run.error["traceback"]
    assert run.params == {"x": 1}
    assert any("FAILED" in t for t in reply.mime("text/plain"))


def test_interrupted_cell_is_killed(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    msg_id = kernel.send("%%track\nimport time\nprint('started', flush=True)\ntime.sleep(30)")
    time.sleep(2.0)
    kernel.interrupt()
    reply = kernel.collect(msg_id, timeout=30)
    assert reply.status == "error" and reply.ename == "KeyboardInterrupt"
    kernel.settle()
    (run,) = all_runs()
    assert run.status == "KILLED"
    assert kernel.execute("print(1 + 1)").stdout == "2\n", "the kernel goes on"


def test_bad_arguments_raise_usage_error_and_do_not_run_the_cell(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    for line in ("experimnt=churn", "--nested=yes", "tags=nocolon", "metrics=1bad", "experiment"):
        reply = kernel.execute(f"%%track {line}\nprint('the body ran')")
        assert reply.status == "error" and reply.ename == "UsageError", line
        shown = plain(reply.text)
        assert "the body ran" not in shown
        assert "experiment=E" in shown and "--no-outputs" in shown, "the valid arguments are listed"
        assert "Traceback" not in shown
    reply = kernel.execute("%%track\nx = (\nprint('the body ran')")
    assert reply.status == "error" and reply.ename == "SyntaxError" and "the body ran" not in reply.stdout
    assert "Cell In[" in plain(reply.text) or "line 3" in plain(reply.text)
    assert all_runs() == []


def test_both_argument_spellings_and_quiet(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    reply = kernel.execute('%%track --experiment churn --name "first try" --quiet params=seed,missing\n'
                           'seed = 7\nobj = object()\nprint("x")')
    assert reply.status == "ok" and reply.stdout == "x\n"
    assert not [t for t in reply.mime("text/plain") if "nbtrack" in t], "--quiet shows no summary"
    (run,) = all_runs()
    assert (run.experiment, run.name, run.params) == ("churn", "first try", {"seed": 7})
    kernel.execute("import nbtrack")
    kernel.execute("%%track experiment=churn --quiet\nlr = 0.1\nnbtrack.log_param('lr', 0.5)")
    assert all_runs()[-1].params == {"lr": 0.5}, "a param logged in the cell wins over the literal"
    reply = kernel.execute("%%track experiment=churn params=obj --no-outputs\nfrom IPython.display import HTML\n"
                           "HTML('<table><tr><td>1</td></tr></table>')")
    run = all_runs()[-1]
    assert run.params["obj"].startswith("<object object at")
    assert run.document("cell")["outputs"] == []
    assert [a.name for a in run.artifacts if a.name.startswith("outputs/")] == []
    assert reply.mime("text/html"), "the output is still shown"


def test_rerun_links_previous_run_also_after_restart(workdir, start_kernel):
    cell = "%%track\nimport nbtrack\nx = 1\nwith nbtrack.track(nested=True):\n    pass"
    path = write_notebook(workdir / "n.ipynb", [("code", "c1", cell)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    kernel.execute(cell, "c1")
    kernel.execute(cell, "c1")
    kernel.shutdown()
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    kernel.execute(cell, "c1")
    runs = all_runs()
    assert len(runs) == 6, "each execution: the cell's run and a child run"
    first, second, third = [r for r in runs if r.parent_run_id is None]
    assert "nbtrack.previous_run" not in first.tags
    assert second.tags["nbtrack.previous_run"] == first.run_id
    assert third.tags["nbtrack.previous_run"] == second.run_id
    assert third.document("cell")["previous_run"] == second.run_id


def test_out_of_order_execution_is_reported(workdir, start_kernel):
    path = write_notebook(workdir / "o.ipynb", [
        ("code", "c1", "a = 10"),
        ("code", "c2", "b = a + 1"),
        ("code", "c3", "%%track\nresult = b * 2"),
    ])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    kernel.execute("a = 1", "c1")       # first version of c1
    kernel.execute("b = a + 1", "c2")
    kernel.execute("a = 10", "c1")      # c1 edited and re-run after c2: b is stale
    reply = kernel.execute("%%track\nresult = b * 2", "c3")
    (run,) = all_runs()
    report = run.document("hidden_state")
    assert [item["id"] for item in report["out_of_order"]] == ["c1"]
    assert report["modified"] == [] and report["matters"] is True
    warning = [t for t in reply.mime("text/plain") if "hidden state" in t]
    assert warning and "cell 1" in warning[0], reply.mime("text/plain")


def test_cells_edited_after_run_and_never_run_are_reported(workdir, start_kernel):
    path = write_notebook(workdir / "e.ipynb", [
        ("code", "c1", "a = 2"),               # saved after an edit; the kernel ran "a = 1"
        ("code", "c2", "unused = 5"),          # never run
        ("code", "c3", "%%track\nresult = a * 2"),
    ])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    kernel.execute("a = 1", "c1")
    reply = kernel.execute("%%track\nresult = a * 2", "c3")
    (run,) = all_runs()
    report = run.document("hidden_state")
    assert [m["id"] for m in report["modified"]] == ["c1"]
    assert [n["id"] for n in report["never_executed"]] == ["c2"]
    assert report["matters"] is True
    assert any("edited after it ran" in t for t in reply.mime("text/plain"))
    assert run.params == {}


def test_tracked_cell_not_saved_yet_is_stale_snapshot(workdir, start_kernel):
    path = write_notebook(workdir / "s.ipynb", [("code", "c1", "%%track\nx = 1")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    kernel.execute("%%track\nx = 2", "c1")
    (run,) = all_runs()
    notebook = run.document("notebook")
    assert notebook["source"] == "disk" and notebook["stale"] is True
    assert "another version" in notebook["stale_reason"]
    assert run.params == {"x": 2}


def test_live_notebook_from_the_frontend_channel_is_preferred(workdir, start_kernel):
    path = write_notebook(workdir / "live.ipynb", [("code", "c1", "old = 1")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    live = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "unsaved note"},
        {"cell_type": "code", "id": "c1", "metadata": {}, "source": "%%track\nnew = 2", "outputs": [],
         "execution_count": None},
    ]}
    session = kernel.kc.session
    comm_id = "test-comm"
    kernel.kc.shell_channel.send(session.msg("comm_open", {
        "comm_id": comm_id, "target_name": "nbtrack", "data": {"type": "hello", "version": 1, "path": "live.ipynb"}}))
    kernel.kc.shell_channel.send(session.msg("comm_msg", {
        "comm_id": comm_id, "data": {"type": "cell_scheduled", "cell_id": "c1", "path": "live.ipynb",
                                     "notebook": live}}))
    reply = kernel.execute("%%track experiment=live metrics=acc\nnew = 2\nacc = 0.5", "c1")
    assert reply.status == "ok"
    (run,) = all_runs()
    sent = [o["data"] for o in reply.outputs if o["output_type"] == "comm"]
    assert [m["type"] for m in sent] == ["run_started", "run_finished"]
    assert sent[0] == {"type": "run_started", "cell_id": "c1", "run_id": run.run_id, "experiment": "live"}
    assert sent[1]["status"] == "FINISHED" and sent[1]["headline"] == {"key": "acc", "value": 0.5}
    notebook = run.document("notebook")
    assert notebook["source"] == "live" and notebook["cell_index"] == 1 and notebook["stale"] is False
    assert notebook["path"] == str(path)
    assert "unsaved note" in run.artifact("notebook.py").read_text()
    status = kernel.execute("%nbtrack").stdout
    assert "JupyterLab extension: connected" in status


def test_vscode_session_variable_names_the_notebook(workdir, start_kernel):
    path = write_notebook(workdir / "vs.ipynb", [("code", "v1", "%%track\nk = 3")])
    kernel = start_kernel()
    kernel.execute(LOAD)
    kernel.execute(f"__vsc_ipynb_file__ = {str(path)!r}")
    kernel.execute("%%track\nk = 3")
    (run,) = all_runs()
    notebook = run.document("notebook")
    assert notebook["source"] == "disk" and notebook["path"] == str(path)
    assert notebook["cell_id"] == "v1" and run.tags["nbtrack.cell"] == "v1"
    assert "k = 3" in run.artifact("notebook.py").read_text()


def test_session_without_notebook_still_tracks_with_history(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    kernel.execute("base = 3")
    reply = kernel.execute("%%track\nk = base + 1")
    assert reply.status == "ok"
    (run,) = all_runs()
    assert run.document("notebook")["source"] == "none"
    assert "notebook.py" not in {a.name for a in run.artifacts}
    sources = [e["source"] for e in run.document("history")["executions"]]
    assert sources == [LOAD, "base = 3", "%%track\nk = base + 1"]
    assert run.params == {}


def test_internal_failure_is_one_warning_and_the_cell_still_runs(workdir, start_kernel):
    broken = workdir / "broken.ipynb"
    broken.write_text("{ not json")
    kernel = start_kernel(JPY_SESSION_NAME=str(broken))
    kernel.execute(LOAD)
    reply = kernel.execute("%%track\nv = 1\nprint('still ran')")
    assert reply.status == "ok" and "still ran" in reply.stdout
    warnings = [t for t in reply.mime("text/plain") if "no notebook snapshot" in t]
    assert len(warnings) == 1
    (run,) = all_runs()
    assert run.status == "FINISHED" and run.params == {"v": 1}
    reply = kernel.execute("%%track metrics=acc,missing artifacts=*.nothing\nacc = 'high'")
    (summary,) = [t for t in reply.mime("text/plain") if t.startswith("nbtrack: run")]
    assert "metric 'acc' is not a number (str)" in summary and "metric 'missing' is not defined" in summary
    assert "no file matches '*.nothing'" in summary
    assert all_runs()[-1].status == "FINISHED"


def test_nbtrack_line_magic_and_config(workdir, start_kernel, tmp_path):
    kernel = start_kernel()
    kernel.execute(LOAD)
    status = kernel.execute("%nbtrack").stdout
    assert "store" in status and "default experiment: default" in status and "not connected" in status
    assert kernel.execute("%nbtrack experiment exp2").status == "ok"
    kernel.execute("%config TrackMagics.quiet = True")
    reply = kernel.execute("%%track\nq = 1")
    assert not [t for t in reply.mime("text/plain") if "nbtrack: run" in t]
    (run,) = all_runs()
    assert run.experiment == "exp2"
    table = kernel.execute("%nbtrack runs params.q = 1")
    assert table.status == "ok" and run.run_id in "".join(table.mime("text/html"))
    bad = kernel.execute("%nbtrack runs params.q ==")
    assert bad.ename == "UsageError"
    assert kernel.execute("%nbtrack frobnicate").ename == "UsageError"
    other = tmp_path / "other.db"
    assert kernel.execute(f"%nbtrack store {other}").status == "ok"
    kernel.execute("%%track\nq = 2")
    nbtrack.set_store(str(other))
    assert [r.params for r in all_runs()] == [{"q": 2}]


def test_unload_removes_magics_and_reload_works(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    assert kernel.execute("%unload_ext nbtrack").status == "ok"
    reply = kernel.execute("%%track\nx = 1")
    assert reply.status == "error" and "not found" in plain(reply.text)
    assert kernel.execute("%nbtrack").status == "error"
    listed = kernel.execute("print([type(c).__name__ for c in get_ipython().configurables])").stdout
    assert "TrackMagics" not in listed
    kernel.execute(LOAD)
    assert kernel.execute("%%track\nx = 1").status == "ok"
    (run,) = all_runs()
    assert run.params == {"x": 1}
    executions = run.document("history")["executions"]
    assert len(executions) == 7


def test_svg_and_plotly_outputs_are_saved_and_still_shown(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    reply = kernel.execute(
        "%%track\nfrom IPython.display import SVG, display\nimport plotly.graph_objects as go\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"><rect/></svg>'))\n"
        "fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))\nfig.show()")
    assert reply.status == "ok", reply.text
    assert reply.mime("image/svg+xml") and reply.mime("application/vnd.plotly.v1+json")
    (run,) = all_runs()
    saved = {a.name.rsplit(".", 1)[-1] if not a.name.endswith(".plotly.json") else "plotly": a
             for a in run.artifacts if a.name.startswith("outputs/")}
    assert set(saved) == {"svg", "plotly"}
    assert "<rect/>" in saved["svg"].read_text()
    assert json.loads(saved["plotly"].read_text())["data"][0]["y"] == [3, 4]


def test_nested_flag_makes_a_child_and_an_active_run_without_it_only_warns(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    kernel.execute("import nbtrack\nparent = nbtrack.track('outer')")
    child = kernel.execute("%%track experiment=outer --nested\nk = 1")
    assert child.status == "ok"
    refused = kernel.execute("%%track\nprint('runs anyway')")
    assert refused.status == "ok" and "runs anyway" in refused.stdout
    assert "add --nested" in refused.stderr and refused.stderr.count("\n") == 1
    kernel.execute("parent.end()")
    parent, nested = all_runs()
    assert nested.parent_run_id == parent.run_id and nested.params == {"k": 1}


def test_dashboard_magic_shows_the_widget(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    kernel.execute("%%track experiment=d\nq = 1")
    reply = kernel.execute("%nbtrack dashboard params.q = 1")
    assert reply.status == "ok", reply.text
    assert reply.mime("application/vnd.jupyter.widget-view+json")


def test_secrets_in_the_cell_are_not_recorded(workdir, start_kernel):
    cell = '%%track\napi_key = "abcdef123456"\nmax_tokens = 256\nprint("using", api_key)'
    path = write_notebook(workdir / "sec.ipynb", [("code", "s1", cell)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD)
    reply = kernel.execute(cell, "s1")
    assert "using abcdef123456" in reply.stdout, "the user's own output is untouched"
    (run,) = all_runs()
    assert run.params == {"api_key": "<redacted>", "max_tokens": 256}
    recorded = json.dumps([run.document("history"), run.document("cell")]) + run.artifact("notebook.py").read_text()
    assert 'api_key = "<redacted>"' in recorded and "abcdef123456" not in recorded
    assert run.document("cell")["stdout"] == "using <redacted>\n"


def test_plain_track_call_in_a_notebook_records_the_snapshot(workdir, start_kernel):
    path = write_notebook(workdir / "p.ipynb", [("code", "load", LOAD),
                                              ("code", "p1", "import nbtrack\nwith nbtrack.track('plain'):\n    pass")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD, "load")
    assert kernel.execute("import nbtrack\nwith nbtrack.track('plain'):\n    pass", "p1").status == "ok"
    (run,) = all_runs()
    assert run.tags["nbtrack.source"] == "notebook" and run.tags["nbtrack.cell"] == "p1"
    assert run.document("notebook")["cell_index"] == 1
    assert "with nbtrack.track('plain')" in run.artifact("notebook.py").read_text()
    assert [e["cell_id"] for e in run.document("history")["executions"]] == ["load", "p1"]


def test_top_level_await_fails_the_run_with_a_clear_message(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    reply = kernel.execute("%%track\nimport asyncio\nawait asyncio.sleep(0.01)")
    assert reply.status == "error" and "top-level await is not supported inside %%track" in reply.stderr
    (run,) = all_runs()
    assert run.status == "FAILED"
    assert kernel.execute("print('alive')").stdout == "alive\n"
