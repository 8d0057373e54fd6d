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
        env["NBTRACK_STORE"] = f"sqlite:///{tmp / 'store' / 'nbtrack.db'}"
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

    def comm_messages(self, kind: str | None = None, timeout: float = TIMEOUT) -> dict:
        """The next kernel->frontend envelope on our comm (optionally of one type)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self._stashed):
                data = msg["content"].get("data", {})
                if msg["content"].get("comm_id") == self.comm_id and (
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
    assert kernel.comm_messages("welcome")["version"] == 1
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
