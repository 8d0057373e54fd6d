"""Execute a notebook headless with nbclient so its ``%%track`` cells become runs.

The kernel gets ``JPY_SESSION_NAME`` = the notebook's absolute path (so snapshots work),
``NBTRACK_STORE`` = the store to write to, and the notebook's directory as cwd.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import NotebookExecutionError, NotebookNotFoundError

EXIT_SETTLE = 60  # seconds the kernel's exit waits for the runs' background work (snapshot, environment)


def store_uri(store: str | os.PathLike | None) -> str:
    """A store URI: ``store`` (a URI or a SQLite file path) or the current store."""
    from .. import config

    if store is None:
        return config.store_uri()
    text = os.fspath(store)
    return text if "://" in text else f"sqlite:///{os.path.abspath(text)}"


def kernel_environment(notebook: Path, store: str) -> dict[str, str]:
    env = dict(os.environ)
    env["JPY_SESSION_NAME"] = str(notebook)
    env["NBTRACK_STORE"] = store
    env["NBTRACK_EXIT_SETTLE"] = str(EXIT_SETTLE)  # nobody waits on a headless kernel: let the runs finish
    package_root = str(Path(__file__).resolve().parents[2])  # the nbtrack this process runs
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def run_notebook(path: str | os.PathLike, store: str | os.PathLike | None = None,
                 output: str | os.PathLike | None = None, timeout: int = 600, *,
                 cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> Any:
    """Execute the notebook at ``path``; write the executed notebook to ``output`` if given.

    ``cwd``: the kernel's working directory (default: the notebook's directory); ``env``: more
    environment variables for the kernel. Returns the executed notebook. Raises
    NotebookNotFoundError, or NotebookExecutionError when a cell raises (the executed part is
    still written to ``output``).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = Path(path).resolve()
    if not notebook.is_file():
        raise NotebookNotFoundError(str(path))
    nb = nbformat.read(str(notebook), as_version=4)
    kernel_name = nb.metadata.get("kernelspec", {}).get("name") or "python3"
    from traitlets.config import Config

    config = Config({"KernelManager": {"shutdown_wait_time": EXIT_SETTLE + 15}})  # not killed while it writes
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, store_widget_state=False,
                            resources={"metadata": {"path": str(cwd or notebook.parent)}}, config=config,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no start-up chatter
    try:
        client.execute(env={**kernel_environment(notebook, store_uri(store)), **(env or {})})
    except CellExecutionError as error:
        index = next((i for i, cell in enumerate(nb.cells) if any(
            o.get("output_type") == "error" for o in cell.get("outputs", []))), -1)
        if output is not None:
            nbformat.write(nb, str(output))
        message = str(getattr(error, "evalue", "") or error)
        raise NotebookExecutionError(str(path), index, getattr(error, "ename", "Error"),
                                     (message.splitlines() or [""])[0]) from None
    if output is not None:
        nbformat.write(nb, str(output))
    return nb
