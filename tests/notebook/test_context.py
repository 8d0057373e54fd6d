"""Runs outside a notebook: a script records its path and source, the IPython terminal its
session history; %%track works in the terminal too."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from nb_helpers import all_runs
from nb_kernel import REPO


def python(code: str, cwd, store_uri: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env.update(PYTHONPATH=str(REPO), NBTRACK_STORE=store_uri)
    return subprocess.run([sys.executable, *args] if args else [sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_script_records_its_path_and_source(workdir, store_uri):
    script = workdir / "train.py"
    script.write_text(textwrap.dedent("""\
        import nbtrack
        from nbtrack.notebook.context import capture_source_context
        with nbtrack.track("scripts") as run:
            capture_source_context(run)   # what the core calls when a run starts
            capture_source_context(run)   # a second call changes nothing
            nbtrack.log_param("a", 1)
        """))
    result = python("", workdir, store_uri, str(script))
    assert result.returncode == 0, result.stderr
    (run,) = all_runs()
    assert run.tags["nbtrack.source"] == "script"
    document = run.document("script")
    assert document["path"] == str(script) and document["artifact"] == "source/train.py"
    assert run.artifact("source/train.py").read_text() == script.read_text()
    assert "notebook" not in run.document_keys


def test_ipython_terminal_records_history_and_tracks_cells(workdir, store_uri):
    code = textwrap.dedent("""\
        from IPython.terminal.interactiveshell import TerminalInteractiveShell
        ip = TerminalInteractiveShell.instance()
        for cell in ["base = 2", "%load_ext nbtrack", "%%track experiment=term\\nz = base + 1\\nz",
                     "import nbtrack\\nfrom nbtrack.notebook.context import capture_source_context\\n"
                     "with nbtrack.track('term2') as r:\\n    capture_source_context(r)",
                     "%%track experiment=term\\n1 / 0"]:
            ip.run_cell(cell, store_history=True)
        """)
    result = python(code, workdir, store_uri)
    assert result.returncode == 0, result.stderr
    assert "ZeroDivisionError" in result.stdout + result.stderr
    tracked, plain, failed = all_runs()
    assert (tracked.experiment, tracked.status, tracked.params) == ("term", "FINISHED", {})
    assert tracked.tags["nbtrack.source"] == "ipython"
    assert tracked.document("notebook")["source"] == "none"
    assert [e["source"] for e in tracked.document("history")["executions"]] == [
        "base = 2", "%load_ext nbtrack", "%%track experiment=term\nz = base + 1\nz"]
    assert plain.tags["nbtrack.source"] == "ipython" and len(plain.document("history")["executions"]) == 4
    assert failed.status == "FAILED" and failed.error["type"] == "ZeroDivisionError"
