"""The kernel side of the nbtrack channel, driven through a real ipykernel with jupyter_client.

The client plays the labextension: it opens a comm on target ``nbtrack`` and sends the same
envelopes the TypeScript side sends.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


class KernelDriver:
    """A real kernel plus the helpers a frontend needs: comm messages, execute, iopub."""

    def __init__(self, tmp: Path):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        self.store_uri = env["NBTRACK_STORE"] = f"sqlite:///{tmp / 'store' / 'nbtrack.db'}"
        env["IPYTHONDIR"] = str(tmp / "ipython")
        env.pop("JPY_SESSION_NAME", None)
        (tmp / "work").mkdir()
        self.km = jupyter_client.KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, cwd=str(tmp / "work"))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.comm_id: str | None = None

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    # -- frontend -> kernel
    def _shell(self, msg_type: str, content: dict) -> str:
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def open_comm(self, data: dict) -> str:
        self.comm_id = uuid.uuid4().hex
        self._shell("comm_open", {"comm_id": self.comm_id, "target_name": "nbtrack", "data": data})
        return self.comm_id

    def send(self, data: dict) -> str:
        return self._shell("comm_msg", {"comm_id": self.comm_id, "data": data})

    def request_execute(self, code: str, cell_id: str | None = None) -> str:
        """Queue an execute_request as JupyterLab sends it (cellId in its metadata); no wait."""
        msg = self.kc.session.msg("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True}, metadata={"cellId": cell_id} if cell_id else {})
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def wait_idle(self, msg_id: str) -> list[dict]:
        """The iopub messages of one request, up to its idle status."""
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            self._stash(msg)
            if msg["parent_header"].get("msg_id") == msg_id:
                seen.append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return seen
        raise AssertionError(f"request {msg_id} did not finish")

    def close_comm(self) -> None:
        self._shell("comm_close", {"comm_id": self.comm_id, "data": {}})

    # -- execution
    def execute(self, code: str) -> str:
        """Run code, return its stdout; fail on an error."""
        msg_id = self.kc.execute(textwrap.dedent(code))
        out, error = [], None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            self._stash(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                error = "\n".join(msg["content"]["traceback"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
        if error:
            raise AssertionError(f"kernel error:\n{error}")
        return "".join(out)

    def value(self, expr: str):
        return json.loads(self.execute(f"import json as _j; print(_j.dumps({expr}))").strip())

    # -- kernel -> frontend
    _stashed: list = []

    def _stash(self, msg) -> None:
        if msg["msg_type"] in ("comm_msg", "comm_close"):
            self._stashed.append(msg)

    def closed(self, comm_id: str) -> bool:
        """Whether the kernel closed ``comm_id`` (a comm_close seen on iopub)."""
        while True:
            try:
                self._stash(self.kc.get_iopub_msg(timeout=0.2))
            except queue.Empty:
                break
        return any(m["msg_type"] == "comm_close" and m["content"].get("comm_id") == comm_id
                   for m in self._stashed)

    def comm_messages(self, kind: str | None = None, timeout: float = TIMEOUT,
                      comm_id: str | None = None) -> dict:
        """The next kernel->frontend envelope on our comm (optionally of one type)."""
        deadline = time.monotonic() + timeout
        comm_id = comm_id or self.comm_id
        while True:
            for i, msg in enumerate(self._stashed):
                data = msg["content"].get("data", {})
                if msg["content"].get("comm_id") == comm_id and msg["msg_type"] == "comm_msg" and (
                        kind is None or data.get("type") == kind):
                    del self._stashed[i]
                    return data
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind or 'comm'} message within {timeout}s")
            try:
                self._stash(self.kc.get_iopub_msg(timeout=left))
            except queue.Empty:
                pass


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    driver = KernelDriver(tmp_path_factory.mktemp("kernel"))
    try:
        assert driver.execute("import nbtrack.frontend as F; print(F.register(get_ipython()))").strip() == "True"
        yield driver
    finally:
        driver.stop()


def notebook_json(source: str) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": "c-1", "metadata": {}, "outputs": [],
                       "execution_count": None, "source": source}]}


def test_hello_is_welcomed_and_marks_connected(kernel):
    assert kernel.value("F.connected()") is False
    kernel.open_comm({"type": "hello", "version": "0.1.0", "path": "sub/exp.ipynb"})
    assert kernel.comm_messages("welcome")["version"] == 2
    assert kernel.value("F.connected()") is True


def test_cell_scheduled_is_seen_by_the_cell_sent_right_after_it(kernel):
    """The ordering the design relies on: comm_msg then execute_request on the shell channel."""
    kernel.send({"type": "cell_scheduled", "cell_id": "c-1", "path": "sub/exp.ipynb",
                 "notebook": notebook_json("%%track experiment=lab\nx = 2  # unsaved edit")})
    # No wait between the push and the execution: the kernel must already hold it.
    snap = kernel.value("F.live_notebook('c-1')")
    assert snap["path"] == "sub/exp.ipynb"
    assert snap["cell_id"] == "c-1"
    assert snap["notebook"]["cells"][0]["source"].endswith("x = 2  # unsaved edit")
    assert kernel.value("F.live_notebook('unknown-cell')") is None
    # A later push for the same cell replaces the earlier one.
    kernel.send({"type": "cell_scheduled", "cell_id": "c-1", "path": "sub/exp.ipynb",
                 "notebook": notebook_json("x = 3")})
    assert kernel.value("F.live_notebook('c-1')['notebook']['cells'][0]['source']") == "x = 3"


def test_a_snapshot_counts_only_for_the_execution_that_follows_it(kernel):
    """A snapshot left from an earlier scheduling (its run fell back, or the cell ran from
    elsewhere) must not pass for the notebook of a later run of the same cell."""
    kernel.send({"type": "cell_scheduled", "cell_id": "c-old", "path": "sub/exp.ipynb",
                 "notebook": notebook_json("y = 1  # old edit")})
    assert kernel.value("F.live_notebook('c-old') is not None") is True  # the next execution
    assert kernel.value("F.live_notebook('c-old')") is None  # any later one


def test_a_newer_comm_of_the_same_client_closes_the_older_one(kernel):
    """One open comm per frontend: run events are sent once, not once per tracked cell."""
    original = kernel.comm_id
    first = kernel.open_comm({"type": "hello", "path": "a.ipynb", "client": "panel-1"})
    assert kernel.comm_messages("welcome", comm_id=first)
    other = kernel.open_comm({"type": "hello", "path": "a.ipynb", "client": "panel-2"})
    assert kernel.comm_messages("welcome", comm_id=other)
    newer = kernel.open_comm({"type": "hello", "path": "a.ipynb", "client": "panel-1"})
    assert kernel.comm_messages("welcome", comm_id=newer)
    assert kernel.closed(first) and not kernel.closed(other) and not kernel.closed(newer)
    kernel.execute("F.notify({'type': 'run_started', 'cell_id': 'c-9', 'run_id': 'r9'})")
    assert kernel.comm_messages("run_started", comm_id=newer)["run_id"] == "r9"
    assert kernel.comm_messages("run_started", comm_id=other)["run_id"] == "r9"
    for comm_id in (other, newer):
        kernel.comm_id = comm_id
        kernel.close_comm()
    kernel.comm_id = original  # the module's later tests go on with the first comm


def test_notify_reaches_the_frontend(kernel):
    kernel.execute("F.notify({'type': 'run_finished', 'cell_id': 'c-1', 'run_id': 'abc', "
                   "'status': 'FINISHED', 'headline': None})")
    msg = kernel.comm_messages("run_finished")
    assert msg["run_id"] == "abc" and msg["status"] == "FINISHED"


def test_list_runs_and_get_run_answer_from_the_store(kernel):
    kernel.send({"type": "list_runs", "request_id": "r0", "path": "sub/exp.ipynb"})
    empty = kernel.comm_messages("runs")
    assert empty == {"type": "runs", "request_id": "r0", "runs": []}

    run_ids = kernel.value("""[
        (lambda r: (r.end(), r.run_id)[1])(
            __import__('nbtrack').track(experiment='lab', name=f'run{i}',
                tags={'nbtrack.notebook': path, 'nbtrack.cell': 'c-1'},
                params={'lr': 0.1 * (i + 1)}))
        for i, path in enumerate(['sub/exp.ipynb', 'other.ipynb', 'sub/exp.ipynb'])]""")
    kernel.send({"type": "list_runs", "request_id": "r1", "path": "sub/exp.ipynb"})
    listed = kernel.comm_messages("runs")
    assert listed["request_id"] == "r1"
    assert [r["run_id"] for r in listed["runs"]] == [run_ids[2], run_ids[0]]  # newest first
    first = listed["runs"][0]
    assert first["status"] == "FINISHED" and first["name"] == "run2"
    assert first["cell_id"] == "c-1"
    assert isinstance(first["start_time"], (int, float))

    kernel.send({"type": "get_run", "request_id": "r2", "run_id": run_ids[0][:10]})
    run = kernel.comm_messages("run")
    assert run["request_id"] == "r2"
    assert run["run"]["run_id"] == run_ids[0]
    assert run["run"]["params"] == {"lr": 0.1}
    assert run["run"]["system_tags"]["nbtrack.notebook"] == "sub/exp.ipynb"
    assert "nbtrack.notebook" not in run["run"]["tags"]


def test_list_runs_matches_the_absolute_path_the_notebook_layer_may_record(kernel):
    run_id = kernel.value("""(lambda r: (r.end(), r.run_id)[1])(__import__('nbtrack').track(
        experiment='lab', tags={'nbtrack.notebook': __import__('os').path.abspath('abs.ipynb')}))""")
    kernel.send({"type": "list_runs", "request_id": "r3", "path": "deep/dir/abs.ipynb"})
    assert [r["run_id"] for r in kernel.comm_messages("runs")["runs"]] == [run_id]


def test_failures_become_error_messages_not_kernel_tracebacks(kernel):
    kernel.send({"type": "get_run", "request_id": "e1", "run_id": "no-such-run"})
    err = kernel.comm_messages("error")
    assert err["request_id"] == "e1" and "no-such-run" in err["message"]
    kernel.send({"type": "get_run", "request_id": "e2"})
    assert kernel.comm_messages("error")["request_id"] == "e2"
    kernel.send({"type": "list_runs", "request_id": "e3", "path": "it's.ipynb"})  # quote in path
    assert kernel.comm_messages("runs")["runs"] == []
    kernel.send({"type": "frobnicate", "request_id": "e4"})
    assert "frobnicate" in kernel.comm_messages("error")["message"]
    # Malformed envelopes are ignored, and the kernel still runs code afterwards.
    kernel.send({"type": "cell_scheduled", "cell_id": 7, "notebook": "not a dict"})
    kernel.send({"no_type": True})
    assert kernel.execute("print('still alive')").strip() == "still alive"


def test_closing_the_comm_disconnects(kernel):
    kernel.close_comm()
    deadline = time.monotonic() + 10
    while kernel.value("F.connected()") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kernel.value("F.connected()") is False
    kernel.execute("F.notify({'type': 'run_started'})")  # no frontend: a no-op


def test_unregister_then_register_again(kernel):
    kernel.execute("F.unregister(get_ipython())")
    assert kernel.value("F.live_notebook('c-1')") is None
    assert kernel.value("F.register(get_ipython())") is True
    kernel.open_comm({"type": "hello", "path": "again.ipynb"})
    assert kernel.comm_messages("welcome")
    assert kernel.value("F.connected()") is True


RUN_ALL_NOTEBOOK = [("c-load", "%load_ext nbtrack"),
                    ("c-a", "%%track experiment=runall\na = 1  # unsaved edit 55"),
                    ("c-b", "%%track experiment=runall\nb = 2"),
                    ("c-status", "%nbtrack")]


def run_all_as_the_extension_does(kernel: KernelDriver, load: str) -> dict[str, str]:
    """Queue a whole "Run All" at once, as JupyterLab does, with the extension's messages: a
    Runs-panel comm opened before the `load` cell ran, and a new comm carrying the live
    notebook right before each tracked cell's execute_request. Returns {cell_id: comm_id}."""
    cells = [("c-load", load)] + RUN_ALL_NOTEBOOK[1:]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": cid, "metadata": {}, "outputs": [], "execution_count": None,
         "source": src} for cid, src in cells]}
    hello = {"type": "hello", "version": "0.1.0", "path": "runall.ipynb", "client": "panel-1"}
    comms = {"early": kernel.open_comm(hello)}
    last = None
    for cell_id, source in cells:
        if source.startswith("%%track") or cell_id == "c-status":
            comms[cell_id] = kernel.open_comm(hello)
            kernel.send({"type": "cell_scheduled", "cell_id": cell_id, "path": "runall.ipynb",
                         "notebook": notebook})
        last = kernel.request_execute(source, cell_id)
    outputs = kernel.wait_idle(last)
    status = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert "JupyterLab extension: connected" in status, status
    return comms


def test_run_all_on_a_new_kernel_after_a_reload_and_after_a_restart_gives_live_snapshots(tmp_path):
    """The contract the extension relies on, on a real kernel: shell order puts each tracked
    cell's comm after `%load_ext nbtrack` (or `%reload_ext`, which closes every open comm),
    whatever happened to earlier comms; the runs record the pushed notebook and their events
    reach the newest comm."""
    import nbtrack

    kernel = KernelDriver(tmp_path)
    try:
        for attempt, load in (("new kernel", "%load_ext nbtrack"), ("reloaded", "%reload_ext nbtrack"),
                              ("restarted", "%load_ext nbtrack")):
            if attempt == "restarted":
                kernel.km.restart_kernel(now=True)
                kernel.kc.wait_for_ready(timeout=60)
                kernel._stashed.clear()
            comms = run_all_as_the_extension_does(kernel, load)
            assert kernel.closed(comms["early"]), f"{attempt}: the comm opened before {load} is gone"
            run_ids = {}
            for cell_id in ("c-a", "c-b"):
                started = kernel.comm_messages("run_started", comm_id=comms[cell_id])
                finished = kernel.comm_messages("run_finished", comm_id=comms[cell_id])
                assert started["cell_id"] == finished["cell_id"] == cell_id
                assert finished["status"] == "FINISHED"
                run_ids[cell_id] = finished["run_id"]
            assert kernel.closed(comms["c-a"]) and not kernel.closed(comms["c-status"])
            kernel.execute("import nbtrack as _nbtrack; _nbtrack.flush()")  # %%track writes in the background
            nbtrack.set_store(kernel.store_uri)
            for cell_id, run_id in run_ids.items():
                record = nbtrack.get_run(run_id)
                assert record.document("notebook")["source"] == "live", attempt
                assert record.tags["nbtrack.cell"] == cell_id
                assert "unsaved edit 55" in record.artifact("notebook.py").read_text()
    finally:
        kernel.stop()


def test_without_a_kernel_everything_is_a_harmless_no_op():
    code = textwrap.dedent("""
        import nbtrack.frontend as F
        assert F.register() is False          # no IPython at all
        from IPython.testing.globalipapp import start_ipython
        ip = start_ipython()
        assert F.register(ip) is False        # a plain IPython shell: no kernel
        F.notify({'type': 'run_finished'})
        F.unregister(ip)
        assert F.connected() is False and F.live_notebook('x') is None
        print('ok')
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
