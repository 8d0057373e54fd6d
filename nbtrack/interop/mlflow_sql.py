"""Read an MLflow SQLite or PostgreSQL tracking database, read-only, straight from its tables.

MLflow's own client would fetch a run's metric history one key at a time through its REST
or store layer; reading the tables in chunks of runs is what makes a store of 1,000 runs x
1,000 points import in seconds. Only the columns that every MLflow since 2.0 has are read.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from .mlflow_runs import (
    FLOAT_MAX,
    MlflowRun,
    artifact_sources,
    dataset_entry,
    id_mapper,
    sql_metric_value,
    to_imported,
)
from .model import ImportedRun, SkippedRun

RUN_CHUNK = 100


class MlflowSqlSource:
    """The runs of an MLflow tracking database (``sqlite:///mlflow.db``, ``postgresql://...``)."""

    def __init__(self, uri: str, experiments: list[str] | None = None, include_deleted: bool = False,
                 artifacts_root: str | None = None, copy_artifacts: bool = True) -> None:
        from sqlalchemy import create_engine, inspect

        from ..store.sql import normalize_uri, redact_uri

        self.uri, self.shown = normalize_uri(uri), redact_uri(uri)
        self.engine = create_engine(self.uri)
        try:
            tables = set(inspect(self.engine).get_table_names())
        except Exception as error:  # noqa: BLE001 - say which database could not be opened
            raise ValueError(f"cannot open the MLflow database {self.shown}: {error}") from None
        if "nbtrack_meta" in tables:
            raise ValueError(f"{self.shown} is an nbtrack store, not an MLflow one")
        missing = {"experiments", "runs", "params", "metrics", "tags"} - tables
        if missing:
            raise ValueError(f"{self.shown} is not an MLflow tracking database (no {', '.join(sorted(missing))} "
                             "table): give an MLflow database URI or an mlruns directory")
        self.tables = tables
        self.run_columns = {c["name"] for c in inspect(self.engine).get_columns("runs")}
        self.wanted = set(experiments) if experiments else None
        self.include_deleted = include_deleted
        self.artifacts_root = artifacts_root
        self.copy_artifacts = copy_artifacts
        path = self.uri.split("///", 1)[1].split("?", 1)[0] if self.uri.startswith("sqlite") else ""
        self.search_dirs = [os.path.dirname(os.path.abspath(path))] if path else []
        self.search_dirs.append(os.getcwd())

    def _rows(self, connection: Any, sql: str, parameters: Any = ()) -> list[tuple]:
        """Plain tuples from the driver's own cursor (no per-row work by SQLAlchemy: a million points)."""
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, tuple(parameters))
            return cursor.fetchall()
        finally:
            cursor.close()

    def _marks(self, count: int) -> str:
        return ", ".join([self._mark] * count)

    @property
    def _mark(self) -> str:
        return "?" if self.engine.dialect.name == "sqlite" else "%s"

    def _select_runs(self, connection: Any) -> tuple[list[tuple], dict[int, tuple]]:
        experiments = {row[0]: (row[1], row[2]) for row in self._rows(
            connection, "SELECT experiment_id, name, lifecycle_stage FROM experiments")}
        name = "name" if "name" in self.run_columns else "NULL"
        runs = self._rows(connection, f"SELECT run_uuid, {name}, status, start_time, end_time, lifecycle_stage, "
                                      "artifact_uri, experiment_id FROM runs ORDER BY start_time, run_uuid")
        chosen = []
        self.deleted = 0
        for run in runs:
            experiment = experiments.get(run[7])
            if experiment is None or (self.wanted is not None and experiment[0] not in self.wanted):
                continue
            if not self.include_deleted and (run[5] == "deleted" or experiment[1] == "deleted"):
                self.deleted += 1
                continue
            chosen.append(run)
        return chosen, experiments

    def count(self) -> int:
        with self.engine.connect() as connection:
            return len(self._select_runs(connection)[0])

    def runs(self) -> Iterator[ImportedRun | SkippedRun]:
        with self.engine.connect() as connection:
            chosen, experiments = self._select_runs(connection)
            exported = dict(self._rows(connection, f"SELECT run_uuid, value FROM tags WHERE {_key()} = "
                                                   f"{self._mark}", ("nbtrack.run_id",)))
            id_for = id_mapper(exported)
            for start in range(0, len(chosen), RUN_CHUNK):
                chunk = chosen[start:start + RUN_CHUNK]
                yield from self._chunk(connection, chunk, experiments, id_for)

    def _chunk(self, connection: Any, chunk: list[tuple], experiments: dict, id_for: Any) -> Iterator:
        ids = [run[0] for run in chunk]
        where = f"run_uuid IN ({self._marks(len(ids))})"
        params: dict[str, dict] = {i: {} for i in ids}
        for key, value, run_id in self._rows(connection, f"SELECT {_key()}, value, run_uuid FROM params "
                                                         f"WHERE {where}", ids):
            params[run_id][key] = value
        tags: dict[str, dict] = {i: {} for i in ids}
        for key, value, run_id in self._rows(connection, f"SELECT {_key()}, value, run_uuid FROM tags "
                                                         f"WHERE {where}", ids):
            tags[run_id][key] = value if value is not None else ""
        points: dict[str, list] = {i: [] for i in ids}
        limit = FLOAT_MAX
        for run_id, key, step, value, is_nan, moment in self._rows(
                connection, f"SELECT run_uuid, {_key()}, step, value, is_nan, timestamp FROM metrics WHERE {where}",
                ids):  # no ORDER BY: a sort of every point for nothing (histories are ordered when read)
            if is_nan or not -limit < value < limit:  # the rare NaN or infinity, kept by MLflow in its own way
                value = sql_metric_value(value, bool(is_nan))
            points[run_id].append((key, step, value, moment / 1000))
        datasets = self._datasets(connection, ids)
        for run in chunk:
            run_id = run[0]
            source = MlflowRun(run_id, experiments[run[7]][0], run[1], run[2], run[3], run[4], params[run_id],
                               tags[run_id], points[run_id], datasets=datasets.get(run_id, []))
            try:
                if self.copy_artifacts:
                    source.artifacts = artifact_sources(run[6], self.search_dirs, self.artifacts_root)
            except OSError as error:
                source.warnings.append(f"artifacts not copied: {error}")
            try:
                yield to_imported(source, id_for)
            except Exception as error:  # noqa: BLE001 - one bad run is reported, the others go on
                yield SkippedRun("mlflow", run_id, f"{type(error).__name__}: {error}")

    def _datasets(self, connection: Any, ids: list[str]) -> dict[str, list[dict]]:
        if not {"inputs", "datasets"} <= self.tables:
            return {}
        rows = self._rows(connection, (
            "SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, "
            "d.dataset_profile, i.input_uuid FROM inputs i JOIN datasets d ON i.source_id = d.dataset_uuid "
            f"WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' "
            f"AND i.destination_id IN ({self._marks(len(ids))})"), ids)
        contexts: dict[str, str] = {}
        if rows and "input_tags" in self.tables:
            uuids = [row[7] for row in rows]
            contexts = dict(self._rows(connection, "SELECT input_uuid, value FROM input_tags WHERE name = "
                                                   f"'mlflow.data.context' AND input_uuid IN "
                                                   f"({self._marks(len(uuids))})", uuids))
        out: dict[str, list[dict]] = {}
        for run_id, name, digest, source_type, source, schema, profile, input_uuid in rows:
            out.setdefault(run_id, []).append(
                dataset_entry(name, digest, source_type, source, schema, profile, contexts.get(input_uuid)))
        return out

    def close(self) -> None:
        self.engine.dispose()


def _key() -> str:
    return '"key"'
