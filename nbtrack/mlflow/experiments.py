"""MLflow experiment ids for nbtrack experiments.

nbtrack names experiments; MLflow code passes ids. An experiment's MLflow id is its row id
in the store as a string; ``"0"`` (MLflow's "Default") names nbtrack's default experiment.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .entities import Experiment, to_millis

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

DEFAULT_ID = "0"


def _store(store: "SqlStore | None") -> "SqlStore":
    from .. import config

    return store or config.get_store()


def _experiment(row: Any) -> Experiment:
    experiment_id, name, created = row
    return Experiment(str(experiment_id), name, f"nbtrack:experiments/{experiment_id}",
                      creation_time=to_millis(created), last_update_time=to_millis(created))


def _columns():
    from ..store import schema as s

    return s.experiments.c.experiment_id, s.experiments.c.name, s.experiments.c.created_time


def ensure_experiment(name: str, store: "SqlStore | None" = None) -> Experiment:
    """The experiment named ``name``, created when missing (as MLflow's ``set_experiment`` does)."""
    from sqlalchemy import select

    from ..store import schema as s
    from ..values import check_name

    store = _store(store)
    check_name("experiment name", name)
    with store.read() as connection:
        row = connection.execute(select(*_columns()).where(s.experiments.c.name == name)).first()
    if row is not None:
        return _experiment(row)
    with store.write() as connection:
        if store.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        connection.execute(insert(s.experiments).values(name=name, created_time=time.time())
                           .on_conflict_do_nothing(index_elements=["name"]))
        row = connection.execute(select(*_columns()).where(s.experiments.c.name == name)).one()
    return _experiment(row)


def experiment_id_for(name: str) -> str:
    """The MLflow id of experiment ``name`` (created when missing: a run about to be written needs it)."""
    from .. import config

    key = (config.store_uri(), name)
    cached = _ids.get(key)
    if cached is None:
        cached = _ids[key] = ensure_experiment(name).experiment_id
    return cached


_ids: dict[tuple[str, str], str] = {}


def by_name(name: str, store: "SqlStore | None" = None) -> Experiment | None:
    from sqlalchemy import select

    from ..store import schema as s

    with _store(store).read() as connection:
        row = connection.execute(select(*_columns()).where(s.experiments.c.name == name)).first()
    return None if row is None else _experiment(row)


def by_id(experiment_id: str | int, store: "SqlStore | None" = None) -> Experiment | None:
    """The experiment with this MLflow id; ``"0"`` is the default experiment (created when missing)."""
    from sqlalchemy import select

    from .. import config
    from ..store import schema as s

    text = str(experiment_id).strip()
    if text == DEFAULT_ID:
        return ensure_experiment(config.default_experiment(), store)
    if not text.isdigit():
        return None
    with _store(store).read() as connection:
        row = connection.execute(select(*_columns()).where(s.experiments.c.experiment_id == int(text))).first()
    return None if row is None else _experiment(row)


def name_for_id(experiment_id: str | int, store: "SqlStore | None" = None) -> str:
    """The name of the experiment with this MLflow id; a clear error when there is none."""
    found = by_id(experiment_id, store)
    if found is None:
        from .exceptions import MlflowException

        raise MlflowException(f"no experiment with id {experiment_id!r} in {_store(store).display_uri}: "
                              "list them with mlflow.search_experiments()", "RESOURCE_DOES_NOT_EXIST")
    return found.name


def all_experiments(store: "SqlStore | None" = None) -> list[Experiment]:
    from sqlalchemy import select

    from ..store import schema as s

    with _store(store).read() as connection:
        rows = connection.execute(select(*_columns()).order_by(s.experiments.c.experiment_id)).all()
    return [_experiment(row) for row in rows]


def ids_by_name(store: "SqlStore | None" = None) -> dict[str, str]:
    return {e.name: e.experiment_id for e in all_experiments(store)}


def move_run(run_id: str, experiment: str, store: "SqlStore | None" = None) -> None:
    """Put a stored run into another experiment (a tracked cell's run adopted by ``start_run``
    after ``mlflow.set_experiment`` named another one)."""
    from sqlalchemy import update

    from ..store import schema as s

    store = _store(store)
    target = int(ensure_experiment(experiment, store).experiment_id)
    with store.write() as connection:
        connection.execute(update(s.runs).where(s.runs.c.run_id == run_id).values(experiment_id=target))
