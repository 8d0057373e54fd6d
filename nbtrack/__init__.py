"""nbtrack: notebook-native experiment tracking.

In a notebook::

    %load_ext nbtrack
    %%track experiment=churn          # on a cell: the cell becomes a run

In any Python code::

    import nbtrack
    with nbtrack.track("churn") as run:
        nbtrack.log_param("C", 0.5)
        nbtrack.log_metric("acc", 0.91)
    nbtrack.runs("churn")              # a DataFrame, one row per run

Importing nbtrack is cheap: pandas, SQLAlchemy and the database drivers load on first use.
"""

from __future__ import annotations

from typing import Any

from . import datasets  # a callable module: nbtrack.datasets() lists dataset versions
from .api import (
    check_filter_keys,
    count_runs,
    delete_run,
    experiments,
    flush,
    get_run,
    log_artifact,
    log_dataset,
    log_figure,
    log_image,
    log_metric,
    log_metrics,
    log_note,
    log_param,
    log_params,
    metric_histories,
    note_run,
    rename_experiment,
    rename_run,
    restore_run,
    runs,
    set_tag,
    set_tags,
    summarize_runs,
    tag_run,
    track,
)
from .config import get_store, set_experiment, set_store
from .dataset_store import load_dataset
from .errors import NbtrackError
from .registry import (
    delete_model,
    delete_model_alias,
    delete_model_tag,
    get_model,
    get_model_version,
    load_model,
    models,
    register_model,
    set_model_alias,
    set_model_description,
    set_model_tags,
)
from .run import Run, active_run

__version__ = "0.1.0"

__all__ = [
    "track", "Run", "active_run", "log_param", "log_params", "log_metric", "log_metrics", "set_tag",
    "set_tags", "log_artifact", "log_image", "log_figure", "log_dataset", "log_note", "flush", "runs", "count_runs",
    "summarize_runs", "check_filter_keys", "metric_histories", "get_run", "experiments", "rename_run", "tag_run",
    "note_run",
    "delete_run", "restore_run", "rename_experiment", "set_store", "get_store", "set_experiment",
    "dashboard", "report", "checkout", "diff", "NbtrackError", "__version__", "autolog", "set_sync",
    # the model registry and stored datasets
    "register_model", "load_model", "models", "get_model", "get_model_version", "set_model_alias",
    "delete_model_alias", "set_model_description", "set_model_tags", "delete_model_tag", "delete_model",
    "datasets", "load_dataset",
]


def __getattr__(name: str) -> Any:
    """``nbtrack.autolog`` is imported on first use (it imports no framework either)."""
    if name == "autolog":
        import importlib

        return importlib.import_module(".autolog", __name__)
    raise AttributeError(f"module 'nbtrack' has no attribute {name!r}")


def set_sync(uri: str | None, artifacts: str | None = None) -> None:
    """Mirror this process's local store to the team store at ``uri`` in the background (``None`` stops);
    the same as ``NBTRACK_SYNC_TO`` (docs/team.md). ``artifacts``: where the team store keeps blobs."""
    from .sync import set_sync as configure

    configure(uri, artifacts)


def dashboard(experiment: str | list[str] | None = None, filter: str | None = None) -> Any:
    """An inline widget to filter, sort, select, plot and compare runs."""
    from .dashboards.widget import dashboard as build

    return build(experiment=experiment, filter=filter)


def report(experiment: str | list[str] | None = None, path: str = "report.html", filter: str | None = None) -> Any:
    """Write the runs table and plots as one self-contained HTML file; returns its path."""
    from .dashboards.report import write_report

    return write_report(experiment=experiment, path=path, filter=filter)


def checkout(run_id: str, path: str | None = None, force: bool = False) -> Any:
    """Rebuild a run's notebook from its snapshot as an .ipynb file; returns its path.
    An existing file is overwritten only with ``force=True``."""
    from .notebook.checkout import checkout as rebuild

    return rebuild(run_id, path, force=force)


def diff(run_a: str, run_b: str) -> str:
    """A unified diff of two runs' notebook snapshots."""
    from .notebook.sourcediff import source_diff

    return source_diff(run_a, run_b)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the built JupyterLab extension lives (for `jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "nbtrack"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbtrack``: register the %%track and %nbtrack magics."""
    from .environment import prewarm
    from .notebook.extension import load

    load(ipython)
    prewarm()  # the first tracked cell must not wait for the package scan


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbtrack``."""
    from .notebook.extension import unload

    unload(ipython)


def _notebook_source_context(run: Any) -> bool:
    """In IPython, the notebook layer records a run's source (imported only then)."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from .notebook.context import capture_notebook_context

    return capture_notebook_context(run)


def _register_source_context() -> None:
    from . import source_context

    source_context.register(_notebook_source_context)


_register_source_context()  # the facade joins the layers; the core itself imports no notebook code
