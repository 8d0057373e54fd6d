"""MLflow's fluent tracking API, backed by nbtrack: ``import nbtrack.mlflow as mlflow``.

Code written for MLflow runs unchanged and records nbtrack runs (with the notebook snapshot,
history and environment MLflow does not keep)::

    import nbtrack.mlflow as mlflow

    mlflow.set_experiment("course")
    with mlflow.start_run(run_name="baseline"):
        mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.1})
        for epoch in range(10):
            mlflow.log_metric("rmse", rmse, step=epoch)
    mlflow.search_runs(filter_string="metrics.rmse < 0.8")

MLflow's semantics are kept where they differ from nbtrack's own API: ``log_metric`` without
``step`` logs step 0, ``timestamp`` is in milliseconds, params read back as text, and a
logging call without an active run starts one. In a ``%%track`` cell the first
``start_run()`` is the cell's run (see :mod:`nbtrack.mlflow.cells`). Calls nbtrack does not
support raise ``NotImplementedError`` saying what to use instead (docs/mlflow.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

from .. import config
from ..run import active_run as _active_run
from . import lifecycle, targets
from .exceptions import MlflowException
from .lifecycle import active_run, end_run, last_active_run, start_run

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .client import MlflowClient
    from .entities import ActiveRun, Experiment, Run

ACTIVE_ONLY = 1  # ViewType.ACTIVE_ONLY (entities load on first use: importing this module stays cheap)
ENTITIES = ("ActiveRun", "Experiment", "Run", "RunStatus", "ViewType")

__all__ = [
    "set_tracking_uri", "get_tracking_uri", "is_tracking_uri_set", "set_experiment", "get_experiment",
    "get_experiment_by_name", "create_experiment", "search_experiments", "start_run", "end_run", "active_run",
    "last_active_run", "get_run", "get_parent_run", "delete_run", "log_param", "log_params", "log_metric",
    "log_metrics", "set_tag", "set_tags", "log_artifact", "log_artifacts", "log_dict", "log_text", "log_figure",
    "log_image", "log_table", "log_input", "get_artifact_uri", "search_runs", "autolog", "register_model",
    "MlflowClient",
    "ActiveRun", "Run", "Experiment", "RunStatus", "ViewType", "MlflowException", "entities", "data",
    "tracking", "exceptions",
]



# --- where runs go ---------------------------------------------------------------------

def set_tracking_uri(uri: str | os.PathLike) -> None:
    """Use an nbtrack store: a SQLite or PostgreSQL URI, a ``.db`` file, or a directory
    (``<dir>/nbtrack.db``). MLflow servers and MLflow stores are refused with what to do."""
    from .uris import store_uri_for

    config.set_store(store_uri_for(uri))


def get_tracking_uri() -> str:
    """The URI of the nbtrack store runs go to."""
    return config.store_uri()


def is_tracking_uri_set() -> bool:
    return config.store_is_configured()


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment the active one (created when missing); nbtrack's default experiment too."""
    from .experiments import by_id, ensure_experiment

    if (experiment_name is None) == (experiment_id is None):
        raise MlflowException("set_experiment takes experiment_name or experiment_id (exactly one)")
    if experiment_id is not None:
        found = by_id(experiment_id)
        if found is None:
            raise MlflowException(f"no experiment with id {experiment_id!r}", "RESOURCE_DOES_NOT_EXIST")
    else:
        found = ensure_experiment(experiment_name.strip() if isinstance(experiment_name, str) else experiment_name)
    config.set_experiment(found.name)
    lifecycle.state.active_experiment = found.name
    return found


def get_experiment(experiment_id: str) -> Experiment:
    from .experiments import by_id

    found = by_id(experiment_id)
    if found is None:
        raise MlflowException(f"no experiment with id {experiment_id!r}", "RESOURCE_DOES_NOT_EXIST")
    return found


def get_experiment_by_name(name: str) -> Experiment | None:
    from .experiments import by_name

    return by_name(name)


def create_experiment(name: str, artifact_location: str | None = None, tags: dict | None = None) -> str:
    """Create an experiment; returns its id. An existing name is an error, as in MLflow."""
    from .experiments import by_name, ensure_experiment
    from .unsupported import refuse

    if artifact_location is not None:
        refuse("mlflow.create_experiment(artifact_location=...)", "artifacts go to the store's artifact root "
               "(NBTRACK_ARTIFACTS, or nbtrack.set_store)")
    if tags:
        refuse("mlflow.create_experiment(tags=...)", "nbtrack experiments have no tags: tag the runs")
    if by_name(name) is not None:
        raise MlflowException(f"an experiment named {name!r} already exists", "RESOURCE_ALREADY_EXISTS")
    return ensure_experiment(name).experiment_id


def search_experiments(view_type: int = ACTIVE_ONLY, max_results: int | None = None,
                       filter_string: str | None = None, order_by: list[str] | None = None) -> list[Experiment]:
    """Experiments, optionally filtered by name (``name = 'x'``, ``name LIKE 'x%'``)."""
    from .client import MlflowClient

    return list(MlflowClient().search_experiments(view_type, max_results, filter_string, order_by))


# --- runs ------------------------------------------------------------------------------

def get_run(run_id: str) -> Run:
    """A stored run as MLflow shows it (``info``, ``data``, ``inputs``); a unique id prefix works."""
    from .client import MlflowClient

    return MlflowClient().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    run = get_run(run_id)
    parent = run.data.tags.get("mlflow.parentRunId")
    return None if parent is None else get_run(parent)


def delete_run(run_id: str) -> None:
    """Hide a run from searches (``nbtrack.restore_run`` brings it back)."""
    import nbtrack

    nbtrack.delete_run(run_id)


def _logging_run(run_id: str | None = None) -> Any:
    """Where a logging call goes: the run ``run_id``, else the active run, else a new one (as MLflow)."""
    if run_id is not None:
        return targets.target(run_id)
    run = _active_run()
    if run is None:
        run = start_run().nbtrack_run
    return run


# --- logging -----------------------------------------------------------------------------

def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param; returns the value, as MLflow does. Any value MLflow takes is taken: one nbtrack
    cannot keep with its type (an object) is kept as ``str(value)``, MLflow's text."""
    _logging_run().log_params(_params({key: value}))
    return value


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    _logging_run(run_id).log_params(_params(params))


def _params(params: dict[str, Any]) -> dict[str, Any]:
    from ..errors import ParamTypeError
    from ..values import normalize_param

    out = {}
    for key, value in dict(params).items():
        try:
            normalize_param(key, value)
        except ParamTypeError:
            value = str(value)
        out[key] = value
    return out


def log_metric(key: str, value: float, step: int | None = None, synchronous: bool | None = None,
               timestamp: int | None = None, run_id: str | None = None, model_id: str | None = None,
               dataset: Any = None) -> None:
    """Log a metric point. As in MLflow, ``step`` defaults to 0 and ``timestamp`` is in milliseconds."""
    if run_id is None and model_id is None and dataset is None:
        run = _active_run()
        if run is None:
            run = _logging_run()
        run.log_metric(key, value, 0 if step is None else step, None if timestamp is None else timestamp / 1000)
        return
    _metric_links(model_id, dataset)
    _logging_run(run_id).log_metric(key, value, 0 if step is None else step,
                                    None if timestamp is None else timestamp / 1000)


def _metric_links(model_id: Any, dataset: Any) -> None:
    from .unsupported import refuse

    if model_id is not None:
        refuse("mlflow.log_metric(model_id=...)", "nbtrack has no logged models: log the metric to the run")
    if dataset is not None:
        refuse("mlflow.log_metric(dataset=...)", "log the dataset with mlflow.log_input and the metric "
               "to the run (name the metric after the dataset, e.g. 'test_rmse')")


def log_metrics(metrics: dict[str, float], step: int | None = None, synchronous: bool | None = None,
                run_id: str | None = None, timestamp: int | None = None, model_id: str | None = None,
                dataset: Any = None) -> None:
    _metric_links(model_id, dataset)
    _logging_run(run_id).log_metrics(metrics, step=0 if step is None else step,
                                     timestamp=None if timestamp is None else timestamp / 1000)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _logging_run().set_tags({key: value})


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    _logging_run().set_tags(tags)


def log_artifact(local_path: str | os.PathLike, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Store a file as ``<artifact_path>/<file name>``."""
    from . import artifact_calls as artifacts

    artifacts.log_artifact(_logging_run(run_id), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Store the files inside a directory under ``artifact_path``."""
    from . import artifact_calls as artifacts

    artifacts.log_artifacts(_logging_run(run_id), local_dir, artifact_path)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Store a dict as JSON (YAML for ``.yml``/``.yaml``), byte for byte as MLflow writes it."""
    from . import artifact_calls as artifacts

    artifacts.log_dict(_logging_run(run_id), dictionary, artifact_file)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    from . import artifact_calls as artifacts

    artifacts.log_text(_logging_run(run_id), text, artifact_file)


def log_figure(figure: Any, artifact_file: str, *, save_kwargs: dict | None = None) -> None:
    """Store a matplotlib or plotly figure under ``artifact_file`` (the extension picks the format)."""
    from . import artifact_calls as artifacts

    artifacts.log_figure(_logging_run(), figure, artifact_file, save_kwargs)


def log_image(image: Any, artifact_file: str | None = None, *, key: str | None = None, step: int | None = None,
              timestamp: int | None = None, synchronous: bool | None = None) -> None:
    """Store a numpy array or PIL image as PNG: at ``artifact_file``, or as step ``step`` of image ``key``."""
    from . import artifact_calls as artifacts

    artifacts.log_image(_logging_run(), image, artifact_file, key, step, timestamp)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Store a DataFrame or dict as MLflow's table JSON (or parquet)."""
    from . import artifact_calls as artifacts

    run = _logging_run(run_id)
    tags = run.tags if hasattr(run, "tags") else get_run(run.run_id).data.tags
    artifacts.log_table(run, data, artifact_file, tags)


def log_input(dataset: Any, context: str | None = None, tags: dict[str, str] | None = None,
              model: Any = None) -> None:
    """Record a dataset (from ``mlflow.data.from_pandas`` / ``from_numpy``) as an nbtrack fingerprint."""
    from .data import log_input as record
    from .unsupported import refuse

    if tags:
        refuse("mlflow.log_input(tags=...)", "tag the run (mlflow.set_tags); the context goes into the dataset's name")
    if model is not None:
        refuse("mlflow.log_input(model=...)", "nbtrack has no logged models")
    record(_logging_run(), dataset, context)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """``runs:/<run_id>[/<artifact_path>]`` of the active run."""
    from .entities import artifact_uri

    return artifact_uri(_logging_run().run_id, artifact_path)


# --- reading -----------------------------------------------------------------------------

def search_runs(experiment_ids: list[str] | None = None, filter_string: str = "",
                run_view_type: int = ACTIVE_ONLY, max_results: int = 100_000,
                order_by: Sequence[str] | None = None, output_format: str = "pandas",
                search_all_experiments: bool = False,
                experiment_names: list[str] | None = None) -> "pd.DataFrame | list[Run]":
    """Runs as MLflow's DataFrame (or a list of Run with ``output_format="list"``).

    Without ``experiment_ids``/``experiment_names``, the active experiment is searched (all
    experiments when none was set, or with ``search_all_experiments=True``).
    """
    from .client import MlflowClient

    client = MlflowClient()
    if experiment_ids and experiment_names:
        raise MlflowException("search_runs takes experiment_ids or experiment_names, not both")
    if experiment_ids:
        names: list[str] | None = client._names_for_ids(experiment_ids)
    elif experiment_names:
        names = [str(name) for name in experiment_names]
    elif search_all_experiments or lifecycle.state.active_experiment is None:
        names = None
    else:
        names = [lifecycle.state.active_experiment]
    return client._search(names, filter_string, run_view_type, max_results, order_by, output_format)


def register_model(model_uri: str, name: str, await_registration_for: int = 300, *,
                   tags: dict[str, Any] | None = None) -> Any:
    """Register ``runs:/<run_id>/<path>`` as the next version of ``name`` in nbtrack's registry
    (:mod:`nbtrack.mlflow.registry`); load it with ``mlflow.<flavor>.load_model("models:/NAME/1")``."""
    from .registry import register_model as register

    return register(model_uri, name, await_registration_for, tags=tags)


def autolog(**kwargs: Any) -> Any:
    """``nbtrack.autolog()`` under MLflow's name (arguments it does not take raise NotImplementedError)."""
    from .autologging import autolog as delegate

    return delegate(kwargs)


def __getattr__(name: str) -> Any:
    """Submodules on first use; unsupported MLflow calls as stand-ins that raise NotImplementedError."""
    import importlib

    if name in ("entities", "data", "tracking", "exceptions", "client"):
        return importlib.import_module(f"{__name__}.{name}")
    if name == "MlflowClient":
        from .client import MlflowClient

        return MlflowClient
    if name in ENTITIES:
        from . import entities

        return getattr(entities, name)
    from .unsupported import lookup

    return lookup(name)
