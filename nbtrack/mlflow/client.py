"""``MlflowClient``: the parts notebooks call, on an nbtrack store.

Every call names its run by id. A run this process is logging to (started with
``start_run`` or ``create_run``) buffers as usual; any other stored run is written at once
(:mod:`nbtrack.mlflow.targets`). Times are milliseconds, as in MLflow.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

from . import targets
from .entities import Experiment, Metric, PagedList, Run, RunStatus, ViewType, iterate_metrics
from .exceptions import MlflowException
from .registry import RegistryCalls

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

# MLflow's log_batch limits (kept so code that works here works on MLflow too)
MAX_METRICS, MAX_PARAMS_TAGS, MAX_ENTITIES = 1000, 100, 1000


class MlflowClient(RegistryCalls):
    """A client of the nbtrack store (``tracking_uri``: another store; default the current one); the
    registry calls (:class:`nbtrack.mlflow.registry.RegistryCalls`) act on the same store."""

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        from .uris import store_uri_for

        if registry_uri is not None:
            from .unsupported import refuse

            refuse("MlflowClient(registry_uri=...)", "nbtrack's model registry lives in the tracking store: "
                   "drop registry_uri (MlflowClient(tracking_uri=...) chooses the store)")
        self._uri = store_uri_for(tracking_uri) if tracking_uri is not None else None

    # --- plumbing -----------------------------------------------------------------------

    @property
    def _store(self) -> "SqlStore":
        from .. import api, config

        if self._uri is None:
            return api._store_for_reading()
        from ..flusher import FLUSHER

        FLUSHER.flush_all()
        return config.store_for(self._uri)

    def _writes_here(self, call: str) -> None:
        from .. import config

        if self._uri is not None and self._uri != config.store_uri():
            from .unsupported import refuse

            refuse(f"MlflowClient(tracking_uri=...).{call}", "runs are started in the current store: "
                   "call mlflow.set_tracking_uri(uri) first, then use MlflowClient()")

    def _names_for_ids(self, experiment_ids: Sequence[str] | str) -> list[str]:
        from .experiments import name_for_id

        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        return [name_for_id(e, self._store) for e in experiment_ids]

    def _search(self, names: list[str] | None, filter_string: str | None, view: int, max_results: int | None,
                order_by: Sequence[str] | None, output_format: str) -> Any:
        from .experiments import ids_by_name
        from .frames import search

        store = self._store
        return search(store, names, filter_string, view, max_results, order_by, output_format, ids_by_name(store))

    # --- experiments --------------------------------------------------------------------

    def get_experiment(self, experiment_id: str) -> Experiment:
        from .experiments import by_id

        found = by_id(experiment_id, self._store)
        if found is None:
            raise MlflowException(f"no experiment with id {experiment_id!r}", "RESOURCE_DOES_NOT_EXIST")
        return found

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        from .experiments import by_name

        return by_name(name, self._store)

    def create_experiment(self, name: str, artifact_location: str | None = None, tags: dict | None = None) -> str:
        from .experiments import by_name, ensure_experiment

        if artifact_location is not None or tags:
            from .unsupported import refuse

            refuse("MlflowClient.create_experiment(artifact_location=..., tags=...)",
                   "artifacts go to the store's artifact root; nbtrack experiments have no tags")
        store = self._store
        if by_name(name, store) is not None:
            raise MlflowException(f"an experiment named {name!r} already exists", "RESOURCE_ALREADY_EXISTS")
        return ensure_experiment(name, store).experiment_id

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList:
        """Experiments; ``filter_string`` on ``name`` (``=``, ``!=``, ``LIKE``, ``ILIKE``, ``IN``)."""
        from .experiments import all_experiments
        from .selection import experiment_filter, order_experiments

        if view_type == ViewType.DELETED_ONLY:
            return PagedList([])  # nbtrack experiments are never deleted
        found = [e for e in all_experiments(self._store) if experiment_filter(filter_string)(e)]
        found = order_experiments(found, order_by)
        return PagedList(found[:max_results] if max_results is not None else found)

    def list_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                         page_token: str | None = None) -> PagedList:
        """MLflow 1's name for :meth:`search_experiments`."""
        return self.search_experiments(view_type, max_results)

    # --- runs ---------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run:
        from ..store.records import load_run
        from .experiments import experiment_id_for
        from .frames import run_from_record

        record = load_run(self._store, run_id)
        return run_from_record(record, experiment_id_for(record.experiment))

    def search_runs(self, experiment_ids: Sequence[str] | str, filter_string: str = "",
                    run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                    order_by: Sequence[str] | None = None, page_token: str | None = None) -> PagedList:
        """Runs of the experiments, as a list of Run (every match at once: ``token`` is None)."""
        if page_token is not None:
            from .unsupported import refuse

            refuse("MlflowClient.search_runs(page_token=...)", "every run is returned at once: raise max_results")
        return PagedList(self._search(self._names_for_ids(experiment_ids), filter_string, run_view_type,
                                      max_results, order_by, "list"))

    def create_run(self, experiment_id: str, start_time: int | None = None, tags: dict[str, Any] | None = None,
                   run_name: str | None = None) -> Run:
        """A RUNNING run that is not the active one; log to it by id and end it with ``set_terminated``."""
        from ..run import Run as NbtrackRun

        self._writes_here("create_run")
        if start_time is not None:
            from .unsupported import refuse

            refuse("MlflowClient.create_run(start_time=...)", "a run starts when it is created")
        tags = dict(tags or {})
        parent = tags.pop("mlflow.parentRunId", None)
        run_name = run_name or tags.pop("mlflow.runName", None)
        note = tags.pop("mlflow.note.content", None)
        run = NbtrackRun(experiment=self._names_for_ids(experiment_id)[0], name=run_name, tags=tags, notes=note,
                         parent_run_id=parent, activate=False)
        targets.remember(run)
        _client_runs[run.run_id] = run  # kept alive (heartbeat) until set_terminated
        return self._live(run)

    def _live(self, run: Any) -> Run:
        from .entities import ActiveRun

        handle = ActiveRun(run, None)
        return Run(handle.info, handle.data)

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        """End a run (FINISHED unless ``status`` says otherwise)."""
        status = RunStatus.to_string(status or "FINISHED")
        run = targets.live_run(run_id) or _client_runs.get(run_id)
        if end_time is not None:
            from .unsupported import refuse

            refuse("MlflowClient.set_terminated(end_time=...)", "a run ends when it is terminated")
        if run is not None:
            run.end(status)
            _client_runs.pop(run.run_id, None)
            return
        from sqlalchemy import update

        from ..statuses import ENDED_STATUSES
        from ..store import schema as s

        if status not in ENDED_STATUSES:
            raise MlflowException(f"set_terminated: status must be one of {', '.join(ENDED_STATUSES)}")
        store = self._store
        full = store.resolve_run_id(run_id)
        import time

        with store.write() as connection:
            connection.execute(update(s.runs).where(s.runs.c.run_id == full).values(
                status=status, end_time=time.time(), heartbeat_time=time.time()))

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        if name is not None:
            import nbtrack

            nbtrack.rename_run(run_id, name)
            live = targets.live_run(run_id)
            if live is not None:
                live.name = name
        if status is not None:
            self.set_terminated(run_id, status)

    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    # --- logging by run id ------------------------------------------------------------------

    def _target(self, run_id: str) -> Any:
        return targets.target(run_id, self._store)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        from . import _params

        self._target(run_id).log_params(_params({key: value}))
        return value

    def log_metric(self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int | None = None,
                   synchronous: bool | None = None, dataset_name: str | None = None,
                   dataset_digest: str | None = None, model_id: str | None = None) -> None:
        if dataset_name or dataset_digest or model_id:
            from . import _metric_links

            _metric_links(model_id, dataset_name or dataset_digest)
        self._target(run_id).log_metric(key, value, step or 0, None if timestamp is None else timestamp / 1000)

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        self._target(run_id).set_tags({key: value})

    def log_batch(self, run_id: str, metrics: Sequence[Metric] = (), params: Sequence[Any] = (),
                  tags: Sequence[Any] = (), synchronous: bool | None = None) -> None:
        """Params, tags and metric points (``Metric(key, value, timestamp_ms, step)``) in one call."""
        from . import _params

        metrics, params, tags = list(metrics), list(params), list(tags)
        if len(metrics) > MAX_METRICS or len(params) > MAX_PARAMS_TAGS or len(tags) > MAX_PARAMS_TAGS \
                or len(metrics) + len(params) + len(tags) > MAX_ENTITIES:
            raise MlflowException("log_batch takes at most 1000 metrics, 100 params and 100 tags (1000 in all), "
                                  "as MLflow does: split the batch")
        target = self._target(run_id)
        if params:
            target.log_params(_params({p.key: p.value for p in params}))
        if tags:
            target.set_tags({t.key: t.value for t in tags})
        if not metrics:
            return
        if isinstance(target, targets.StoredRun):
            target.log_points([(m.key, m.value, m.step or 0, m.timestamp / 1000) for m in metrics])
        else:
            for m in metrics:
                target.log_metric(m.key, m.value, m.step or 0, m.timestamp / 1000)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, in step then time order."""
        from ..store.query import metric_histories

        store = self._store
        frame = metric_histories(store, [store.resolve_run_id(run_id)], key)
        seconds = [moment.timestamp() for moment in frame["timestamp"]]
        return list(iterate_metrics(zip([key] * len(frame), frame["value"], seconds, frame["step"])))

    # --- artifacts -------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: str | os.PathLike, artifact_path: str | None = None) -> None:
        from . import artifact_calls as artifacts

        artifacts.log_artifact(self._target(run_id), local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str | os.PathLike, artifact_path: str | None = None) -> None:
        from . import artifact_calls as artifacts

        artifacts.log_artifacts(self._target(run_id), local_dir, artifact_path)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        from . import artifact_calls as artifacts

        artifacts.log_dict(self._target(run_id), dictionary, artifact_file)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        from . import artifact_calls as artifacts

        artifacts.log_text(self._target(run_id), text, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs: dict | None = None) -> None:
        from . import artifact_calls as artifacts

        artifacts.log_figure(self._target(run_id), figure, artifact_file, save_kwargs)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list:
        from ..store.records import load_run
        from . import artifact_calls as artifacts

        record = load_run(self._store, run_id)
        return artifacts.list_artifacts([(a.name, a.size) for a in record.artifacts], path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        """Write the artifact(s) under ``path`` into ``dst_path`` (a new temporary directory by default)."""
        from ..store.records import load_run
        from . import artifact_calls as artifacts

        return artifacts.download_artifacts(load_run(self._store, run_id), path, dst_path)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from .unsupported import stub

        return stub(f"MlflowClient.{name}", "see docs/mlflow.md for the MlflowClient calls nbtrack supports")


_client_runs: dict[str, Any] = {}
