"""Starting and ending runs the MLflow way: ``start_run``, ``end_run``, ``active_run``, and the
``%%track`` rule (:mod:`nbtrack.mlflow.cells`) applied when a tracked cell's code starts one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import config
from ..run import Run as _Run
from ..run import active_run as _active_run
from . import cells, targets
from .exceptions import MlflowException

if TYPE_CHECKING:  # pragma: no cover
    from .entities import ActiveRun, Run


@dataclass
class State:
    """What MLflow's fluent API remembers in a process."""

    active_experiment: str | None = None  # set by set_experiment: where start_run puts runs
    last_run_id: str | None = None  # the run ended last (last_active_run)


state = State()


def get_run(run_id: str) -> "Run":
    from .client import MlflowClient

    return MlflowClient().get_run(run_id)


def _experiment_name(experiment_id: str | None) -> str | None:
    from .experiments import name_for_id

    if experiment_id is not None:
        return name_for_id(experiment_id)
    return state.active_experiment


def start_run(run_id: str | None = None, experiment_id: str | None = None, run_name: str | None = None,
              nested: bool = False, parent_run_id: str | None = None, tags: dict[str, Any] | None = None,
              description: str | None = None, log_system_metrics: bool | None = None) -> ActiveRun:
    """Start a run (or continue the stored run ``run_id``); use it as ``with mlflow.start_run():``.

    In a ``%%track`` cell the first call adopts the cell's run (docs/mlflow.md).
    """
    from .unsupported import refuse

    if log_system_metrics:
        refuse("mlflow.start_run(log_system_metrics=True)", "system metrics are not sampled through nbtrack.mlflow")
    experiment = _experiment_name(experiment_id)
    current = _active_run()
    cell = cells.cell_of(current) if current is not None else None
    if run_id is not None:
        if current is not None and not nested and not (cell is not None and cells.claim_state(current) is None):
            raise _already_active(current)
        run = _Run(resume=run_id, tags=tags, notes=description, nested=current is not None, capture_environment=False)
    elif cell is not None and cells.claim_state(current) is None:
        return _adopt(cell, experiment, experiment_id is not None, run_name, tags, description)
    else:
        released_cell = cell is not None and cells.claim_state(current) == cells.RELEASED
        if current is not None and not nested and not released_cell:
            raise _already_active(current)
        run = _Run(experiment=experiment, name=run_name, tags=tags, notes=description,
                   nested=current is not None or parent_run_id is not None, parent_run_id=parent_run_id)
    targets.remember(run)
    return _handle(run)


def _handle(run: Any) -> "ActiveRun":
    from .entities import ActiveRun

    return ActiveRun(run, _leave)


def _already_active(run: Any) -> MlflowException:
    return MlflowException(
        f"Run with UUID {run.run_id} is already active. To start a new run, first end the current run with "
        "mlflow.end_run(). To start a nested run, call start_run with nested=True")


def _adopt(cell: Any, experiment: str | None, explicit: bool, run_name: str | None, tags: dict | None,
           description: str | None) -> ActiveRun:
    """The cell's run stands in for the first run the cell's code starts."""
    import sys

    from ..values import check_name
    from .experiments import move_run

    run = cell.run
    cells.claim(run)
    if experiment is not None and experiment != run.experiment:
        if run._options.get("experiment") is None or explicit:
            run.experiment = experiment  # a run not written yet is created there
            _edit_stored(run, lambda: move_run(run.run_id, experiment), f"move this cell's run to {experiment!r}")
        else:
            print(f"nbtrack: this cell's run stays in experiment {run.experiment!r} (named by %%track or "
                  f"%nbtrack experiment), not {experiment!r}", file=sys.stderr)
    if run_name is not None:
        run.name = check_name("run name", run_name)
        _edit_stored(run, lambda: config.store_for(run.store_uri).rename_run(run.run_id, run.name),
                     f"rename this cell's run to {run.name!r}")
    if tags:
        run.set_tags(tags)
    if description:
        run.log_note(description)
    targets.remember(run)
    return _handle(run)


def _edit_stored(run: Any, edit: Any, what: str) -> None:
    """Apply ``edit`` to the stored run once it is written; a store that cannot be reached is said,
    not raised (the cell's code goes on; a run still to be written takes the new value anyway)."""
    import sys

    try:
        run.flush()  # waits for a flush under way, then creates the run if it is not yet written
        edit()
    except Exception as error:  # noqa: BLE001 - tracking never breaks the user's cell
        print(f"nbtrack: could not {what} ({type(error).__name__}: {error})", file=sys.stderr)


def _leave(run: Any, error: BaseException | None) -> None:
    """Leaving a ``with start_run()`` block: end the run (FAILED with the traceback on an error)."""
    state.last_run_id = run.run_id
    cell = cells.cell_of(run)
    if cell is not None:
        cells.release(run)
        if error is not None and not isinstance(error, KeyboardInterrupt):
            run.set_document("error", _error_document(error))
            cells.end_with(cell, "FAILED")
        return
    if error is None:
        run.end()
    elif isinstance(error, KeyboardInterrupt):
        run.kill()
    else:
        run.fail(error)


def _error_document(error: BaseException) -> dict:
    import traceback

    from ..secrets import redact

    return {"type": type(error).__name__, "message": redact(str(error)),
            "traceback": redact("".join(traceback.format_exception(type(error), error, error.__traceback__)))}


def end_run(status: str = "FINISHED") -> None:
    """End the active run (nothing when there is none). A ``%%track`` cell's run ends with its cell."""
    from .entities import RunStatus

    run = _active_run()
    if run is None:
        return
    status = RunStatus.to_string(status)
    state.last_run_id = run.run_id
    cell = cells.cell_of(run)
    if cell is not None:
        if status not in ("FINISHED", "FAILED", "KILLED"):
            raise MlflowException(f"end_run: status must be FINISHED, FAILED or KILLED, not {status!r}")
        cells.release(run)
        cells.end_with(cell, status)
        return
    run.end(status)


def active_run() -> ActiveRun | None:
    """The innermost active run (a ``%%track`` cell's run in a tracked cell), or None."""
    run = _active_run()
    return None if run is None else _handle(run)


def last_active_run() -> Run | None:
    """The active run, else the run this process ended last (as MLflow's ``last_active_run``)."""
    run = _active_run()
    if run is not None:
        return get_run(run.run_id)
    return None if state.last_run_id is None else get_run(state.last_run_id)
