"""A real IPython kernel driven like JupyterLab drives it (execute requests carry the cell
id in their metadata), with what it displayed collected per execution."""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client import KernelManager

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Reply:
    status: str
    execution_count: int | None
    outputs: list[dict] = field(default_factory=list)
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return "".join(o["text"] for o in self.outputs if o["output_type"] == "stream" and o["name"] == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(o["text"] for o in self.outputs if o["output_type"] == "stream" and o["name"] == "stderr")

    def mime(self, mime: str) -> list[Any]:
        return [o["data"][mime] for o in self.outputs if mime in o.get("data", {})]

    @property
    def text(self) -> str:
        """Everything shown as text: streams, text/plain reprs and tracebacks."""
        parts = []
        for output in self.outputs:
            if output["output_type"] == "stream":
                parts.append(output["text"])
            elif "data" in output:
                parts.append(str(output["data"].get("text/plain", "")))
            elif output["output_type"] == "error":
                parts.append("\n".join(output["traceback"]))
        return "\n".join(parts)


def kernel_env(store_uri: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NBTRACK_STORE"] = store_uri
    env.update(extra)
    return env


class Kernel:
    """Start with ``Kernel(cwd, env)``; ``execute(code, cell_id=...)`` returns a :class:`Reply`."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def send(self, code: str, cell_id: str | None = None) -> str:
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def collect(self, msg_id: str, timeout: float = 60) -> Reply:
        outputs: list[dict] = []
        deadline = time.time() + timeout
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                raise TimeoutError("the kernel did not finish the cell in time") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind == "stream":
                outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
            elif kind in ("display_data", "execute_result", "update_display_data"):
                outputs.append({"output_type": kind, "data": content["data"]})
            elif kind in ("comm_msg", "comm_open"):
                outputs.append({"output_type": "comm", "data": content.get("data", {})})
            elif kind == "error":
                outputs.append({"output_type": "error", "ename": content["ename"], "traceback": content["traceback"]})
        while True:
            reply = self.kc.get_shell_msg(timeout=max(1, deadline - time.time()))
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        return Reply(content["status"], content.get("execution_count"), outputs, content.get("ename"),
                     content.get("evalue"), content.get("traceback", []))

    def execute(self, code: str, cell_id: str | None = None, timeout: float = 60, settle: bool = True) -> Reply:
        """Run a cell. After a ``%%track`` cell (``settle``), wait for the kernel to write what
        the run still had in the background (a %%track cell does not wait for the disk), so the
        test process reads the finished run, as ``nbtrack.flush()`` in the notebook would."""
        reply = self.collect(self.send(code, cell_id), timeout)
        if settle and "%%track" in code:
            self.settle(timeout)
        return reply

    def settle(self, timeout: float = 60) -> None:
        """``nbtrack.flush()`` in the kernel, silently (not in its history, no hooks run)."""
        content = {"code": f'__import__("sys").modules.get("nbtrack") and __import__("nbtrack").flush({timeout})',
                   "silent": True, "store_history": False, "user_expressions": {}, "allow_stdin": False,
                   "stop_on_error": False}
        msg = self.kc.session.msg("execute_request", content)
        self.kc.shell_channel.send(msg)
        self.collect(msg["header"]["msg_id"], timeout)

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def shutdown(self, now: bool = True) -> None:
        """Stop the kernel: killed (``now``), or asked to shut down as JupyterLab does (its exit
        hooks run). Stopping a stopped kernel does nothing."""
        try:
            self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=now)
