"""QA pass: the notebook experience end to end in real kernels."""

from __future__ import annotations

from nb_helpers import all_runs, plain, write_notebook

LOAD = "%load_ext nbtrack\nimport nbtrack"
TRACKED = "%%track experiment=qa\ny = x + 1"


def test_unload_and_load_again_keeps_the_kernel_history(workdir, start_kernel):
    path = write_notebook(workdir / "reload.ipynb", [
        ("code", "load", LOAD),
        ("code", "data", "x = 1"),
        ("code", "tracked", TRACKED),
    ])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("x = 1", "data").status == "ok"
    assert kernel.execute("1 / 0", "scratch").status == "error"
    assert kernel.execute("%unload_ext nbtrack", "unload").status == "ok"
    assert kernel.execute("%load_ext nbtrack", "reload").status == "ok"
    reply = kernel.execute(TRACKED, "tracked")
    assert reply.status == "ok", plain(reply.text)
    (run,) = all_runs()
    executions = run.document("history")["executions"]
    assert [(e["execution_count"], e["cell_id"], e["failed"]) for e in executions] == [
        (1, "load", False), (2, "data", False), (3, "scratch", True), (4, "unload", False),
        (5, "reload", False), (6, "tracked", False)]
    hidden = run.document("hidden_state")
    assert hidden["never_executed"] == [] and hidden["warnings"] == []


def test_reload_ext_keeps_the_previous_run_of_a_cell(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    assert kernel.execute("x = 1").status == "ok"
    assert kernel.execute(TRACKED).status == "ok"
    assert kernel.execute("%reload_ext nbtrack").status == "ok"
    assert kernel.execute(TRACKED).status == "ok"
    first, second = all_runs()
    assert second.tags.get("nbtrack.previous_run") == first.run_id


def test_an_edited_cell_in_its_place_is_reported_as_edited_not_as_out_of_order():
    from nbtrack.notebook.hidden_state import Cell, Execution, analyze

    data = "X_train, X_test = load(1)"
    nb = [Cell(0, "code", data, "data"), Cell(1, "code", "%%track\nfit(X_train, X_test)", "fit")]
    history = [Execution(1, "X_train, X_test = load(0)", "data")]
    report = analyze(nb, history, 1, "%%track\nfit(X_train, X_test)")
    assert report["warnings"] == ["cell 0 was edited after it ran (In [1])"]
    assert {r["name"]: r["matches_notebook"] for r in report["redefinitions"]} == {"X_test": False, "X_train": False}


def test_summary_after_an_edited_data_cell_leads_with_the_edit(workdir, start_kernel):
    saved = "from sklearn.datasets import make_classification\nX, y = make_classification(200, random_state=1)"
    tracked = ("%%track experiment=qa metrics=acc\nfrom sklearn.linear_model import LogisticRegression\n"
               "C = 1.0\nacc = LogisticRegression(C=C).fit(X, y).score(X, y)")
    path = write_notebook(workdir / "edited.ipynb", [
        ("code", "load", LOAD), ("code", "data", saved), ("code", "fit", tracked)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute(saved.replace("random_state=1", "random_state=0"), "data").status == "ok"
    reply = kernel.execute(tracked, "fit")
    assert reply.status == "ok", plain(reply.text)
    (summary,) = [t for t in reply.mime("text/plain") if t.startswith("nbtrack: run")]
    assert summary.splitlines()[1] == "nbtrack: ⚠ hidden state: cell 1 was edited after it ran (In [2])", summary
    assert "notebook order" not in summary


def test_demo_next_commands_can_be_pasted_when_the_directory_has_spaces(tmp_path, store_uri):
    import shlex
    import subprocess
    import sys

    from test_notebooks_cli import cli

    result = cli("demo", "--dir", str(tmp_path / "my demo ü"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = [t for t in result.stdout.splitlines() if t.startswith("next: ")]
    ls_command, lab_command = (shlex.split(part) for part in line[len("next: "):].split("   |   "))
    assert lab_command == ["jupyter", "lab", str(tmp_path / "my demo ü" / "churn.ipynb")]
    assert ls_command[0] == "nbtrack"
    listed = cli(*ls_command[1:], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "baseline" in listed.stdout and "final" in listed.stdout


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


def test_a_failed_cell_does_not_store_secrets_quoted_by_its_error(workdir, start_kernel):
    key = "sk-abcdefghijklmnopqrstuvwxyz123456"
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute(f"%%track\napi_key = '{key}'\nmy_token = 'plain-token-value'\n"
                           "raise ValueError('rejected ' + api_key + ' and ' + my_token + ' at https://u:pw1234@host')")
    assert reply.status == "error" and key in plain(reply.text), "the user still sees the real error"
    (run,) = all_runs()
    assert run.status == "FAILED"
    assert run.error["type"] == "ValueError"
    assert run.error["message"] == "rejected <redacted> and <redacted> at https://<redacted>@host"
    assert "ValueError: rejected <redacted> and <redacted>" in run.error["traceback"]
    for secret in (key, "plain-token-value", "pw1234"):
        assert secret not in str(run.error)


def test_quiet_still_warns_about_hidden_state_on_stderr(workdir, start_kernel):
    path = write_notebook(workdir / "quiet.ipynb", [
        ("code", "load", LOAD), ("code", "data", "x = 2"), ("code", "tracked", "%%track --quiet\ny = x + 1")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("x = 1", "data").status == "ok"  # the saved cell says x = 2
    reply = kernel.execute("%%track --quiet\ny = x + 1", "tracked")
    assert reply.status == "ok" and not [t for t in reply.mime("text/plain") if "nbtrack" in t]
    assert reply.stderr == "nbtrack: hidden state: cell 1 was edited after it ran (In [2])\n"
    (run,) = all_runs()
    assert run.document("hidden_state")["matters"] is True


def test_a_cell_that_fails_early_records_no_literal_it_never_assigned(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute("%%track\nlr = 0.1\nraise ValueError('early')\nepochs = 10")
    assert reply.status == "error"
    (run,) = all_runs()
    assert run.status == "FAILED" and run.params == {"lr": 0.1}


def test_top_level_await_shows_one_clear_error_without_generator_exit_noise(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute("%%track\nimport asyncio\nlr = 0.5\nawait asyncio.sleep(0.1)\ndone = 1")
    assert reply.status == "error" and reply.ename == "TopLevelAwaitError"
    text = plain(reply.text)
    assert "GeneratorExit" not in text and "_Suspended" not in text
    assert "top-level await is not supported inside %%track" in text
    assert "----> 4 await asyncio.sleep(0.1)" in text, text
    (run,) = all_runs()
    assert run.status == "FAILED" and run.params == {"lr": 0.5}
    assert run.error["type"] == "TopLevelAwaitError"
    assert kernel.execute("print('alive')").stdout == "alive\n"


def test_snapshot_reason_names_a_notebook_file_that_does_not_exist(tmp_path):
    from nbtrack.notebook.snapshot import take_snapshot

    missing = str(tmp_path / "Untitled.ipynb")
    snapshot = take_snapshot("c1", "%%track\nx = 1", {}, None, {"JPY_SESSION_NAME": missing})
    assert snapshot.source == "none"
    assert snapshot.reason == (f"the notebook file {missing} does not exist "
                               "(not saved yet, or renamed since the kernel started)")
    snapshot = take_snapshot("c1", "%%track\nx = 1", {}, None, {})
    assert snapshot.reason.startswith("no notebook file known to this kernel")
