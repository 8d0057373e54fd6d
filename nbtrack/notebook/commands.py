"""The notebook layer's subcommands of the ``nbtrack`` CLI: ``checkout``, ``run``, ``demo``."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
from pathlib import Path

from ..errors import MissingDependencyError
from .errors import NotebookNotFoundError

DEMO_NOTEBOOK = "churn.ipynb"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``checkout``, ``run`` and ``demo`` to the CLI."""
    checkout = subparsers.add_parser("checkout", help="rebuild a run's notebook as an .ipynb")
    checkout.add_argument("run", help="run id or unique prefix")
    checkout.add_argument("-o", "--output", metavar="PATH", help="file or directory to write to")
    checkout.add_argument("--force", action="store_true", help="overwrite an existing file")
    checkout.set_defaults(func=cmd_checkout)

    run = subparsers.add_parser("run", help="execute a notebook headless; its %%%%track cells become runs")
    run.add_argument("notebook", help="path of the .ipynb")
    run.add_argument("--store", dest="notebook_store", metavar="URI", help="store the runs go to")
    run.add_argument("-o", "--output", metavar="OUT", help="write the executed notebook here")
    run.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    run.set_defaults(func=cmd_run)

    demo = subparsers.add_parser("demo", help="run the churn example notebook and show the runs it tracked")
    demo.add_argument("--dir", default=None,
                      help="work directory (default: $XDG_DATA_HOME/nbtrack/demo or ~/.local/share/nbtrack/demo)")
    demo.set_defaults(func=cmd_demo)


def cmd_checkout(args: argparse.Namespace) -> int:
    from .checkout import checkout

    path = checkout(args.run, args.output, force=args.force)
    print(f"wrote {path}")
    return 0


def _print_runs(store: str, started: float) -> None:
    import nbtrack

    nbtrack.set_store(store)
    frame = nbtrack.runs(order_by="start_time ASC")
    frame = frame[frame["start_time"].map(lambda t: t.timestamp() >= started - 1)]
    if frame.empty:
        print("no runs were tracked")
        return
    shown = frame.copy()
    shown["run_id"] = shown["run_id"].str[:8]
    shown["duration"] = shown["duration"].map(lambda d: f"{d:.1f}s" if d == d else "")
    params = [c for c in shown.columns if c.startswith("params.")]
    shown["params"] = shown[params].notna().sum(axis=1) if params else 0
    columns = ["run_id", "experiment", "name", "status", "duration", "params"] + [
        c for c in shown.columns if c.startswith("metrics.")]
    print(shown[columns].to_string(index=False, max_colwidth=24, float_format=lambda v: f"{v:.4g}"))


def cmd_run(args: argparse.Namespace) -> int:
    import time

    from .runner import run_notebook, store_uri

    store = store_uri(args.notebook_store or getattr(args, "store", None))
    started = time.time()
    run_notebook(args.notebook, store, args.output, timeout=args.timeout)
    print(f"executed {args.notebook}" + (f" -> {args.output}" if args.output else ""))
    _print_runs(store, started)
    return 0


def demo_notebook() -> Path:
    """The churn example notebook: shipped in the package, else the repository's copy."""
    for candidate in (Path(__file__).parent / "demo" / DEMO_NOTEBOOK,
                      Path(__file__).resolve().parents[2] / "example_notebooks" / DEMO_NOTEBOOK):
        if candidate.is_file():
            return candidate
    raise NotebookNotFoundError(DEMO_NOTEBOOK)


def cmd_demo(args: argparse.Namespace) -> int:
    import time

    from .runner import run_notebook, store_uri

    for module, package in (("sklearn", "scikit-learn"), ("matplotlib", "matplotlib")):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(package, "examples")
    work = Path(args.dir).resolve() if args.dir else demo_directory()
    work.mkdir(parents=True, exist_ok=True)
    notebook = work / DEMO_NOTEBOOK
    shutil.copyfile(demo_notebook(), notebook)
    store = store_uri(getattr(args, "store", None) or work / ".nbtrack" / "nbtrack.db")
    print(f"running {notebook} (store: {store}) ...", flush=True)
    started = time.time()
    run_notebook(notebook, store, notebook)
    _print_runs(store, started)
    quote = shlex.quote  # the commands are meant to be pasted into a shell
    lab = "jupyter lab" if shutil.which("jupyter-lab") else "pip install jupyterlab && jupyter lab"
    print(f"\nnext: nbtrack --store {quote(store)} ls   |   {lab} {quote(str(notebook))}")
    return 0


def demo_directory() -> Path:
    """Where ``nbtrack demo`` works by default: a user data directory, never the current one
    (run from a repository clone, it would leave an untracked folder behind)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base).resolve() / "nbtrack" / "demo"
