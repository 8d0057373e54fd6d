"""The registry's reads and writes on a SqlStore (tables in ``nbtrack.store.schema``).

Every change runs in one write transaction that first locks the model's row (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serializes writers), so two clients
registering at once get distinct version numbers and two clients moving one alias at once leave
exactly one alias row pointing at a version that exists (a foreign key with ``ON DELETE
CASCADE`` removes the aliases of a deleted version in the same statement).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from ..errors import ArtifactNotFoundError, ModelNotFoundError
from ..store import schema as s
from .names import ModelURI
from .records import ModelVersion, RegisteredModel

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

DIRECTORY = "directory"  # the kind of a version whose artifact is a logged directory (sha256: its manifest)
MANIFEST_MEDIA_TYPE = "application/vnd.nbtrack.manifest+json"


@dataclass(frozen=True)
class Source:
    """What a new version pins: a run's artifact, resolved and (for a directory) its manifest stored."""

    run_id: str
    artifact_name: str
    sha256: str
    size: int
    kind: str
    media_type: str


def resolve_source(store: "SqlStore", run_id: str, artifact_name: str, connection: Connection | None = None) -> Source:
    """The run's artifact ``artifact_name``; a logged directory becomes a manifest of its files."""
    if connection is None:
        with store.read() as connection:
            return resolve_source(store, run_id, artifact_name, connection)
    from .files import manifest_bytes

    full = store.resolve_run_id(run_id, connection)
    row = connection.execute(select(s.artifacts).where(
        s.artifacts.c.run_id == full, s.artifacts.c.name == artifact_name)).first()
    if row is not None:
        return Source(full, artifact_name, row.sha256, row.size, row.kind, row.media_type)
    members = connection.execute(select(s.artifacts.c.name, s.artifacts.c.sha256, s.artifacts.c.size).where(
        s.artifacts.c.run_id == full,
        func.substr(s.artifacts.c.name, 1, len(artifact_name) + 1) == artifact_name + "/")).all()
    if not members:
        names = list(connection.execute(select(s.artifacts.c.name).where(
            s.artifacts.c.run_id == full).order_by(s.artifacts.c.name)).scalars())
        raise ArtifactNotFoundError(full, artifact_name, names)
    entries = {name[len(artifact_name) + 1:]: (sha, size) for name, sha, size in members}
    digest, _ = store.blobs.put_bytes(manifest_bytes(entries))
    return Source(full, artifact_name, digest, sum(size for _, size in entries.values()), DIRECTORY,
                  MANIFEST_MEDIA_TYPE)


# -- writes -----------------------------------------------------------------------------------------

def _insert(store: "SqlStore", table):
    """The dialect's INSERT (with ON CONFLICT clauses)."""
    if store.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _lock_model(store: "SqlStore", connection: Connection, name: str):
    """The model's row, locked for this transaction (SELECT ... FOR UPDATE; SQLite writers hold the lock)."""
    row = connection.execute(select(s.registered_models).where(
        s.registered_models.c.name == name).with_for_update()).first()
    if row is None:
        raise ModelNotFoundError(f"no registered model named {name!r}")
    return row


def _require_version(connection: Connection, name: str, version: int) -> None:
    found = connection.execute(select(s.model_versions.c.version).where(
        s.model_versions.c.name == name, s.model_versions.c.version == version)).first()
    if found is None:
        existing = list(connection.execute(select(s.model_versions.c.version).where(
            s.model_versions.c.name == name).order_by(s.model_versions.c.version)).scalars())
        raise ModelNotFoundError(f"model {name!r} has no version {version}",
                                 f"its versions: {', '.join(map(str, existing)) or 'none'}")


def _touch(connection: Connection, name: str, now: float, **values) -> None:
    connection.execute(update(s.registered_models).where(s.registered_models.c.name == name).values(
        updated_time=now, **values))


def _upsert_alias(store: "SqlStore", connection: Connection, name: str, alias: str, version: int, now: float):
    statement = _insert(store, s.model_aliases).values(name=name, alias=alias, version=version, updated_time=now)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["name", "alias"], set_={"version": version, "updated_time": now}))


def _upsert_tags(store: "SqlStore", connection: Connection, table, keys: dict, tags: dict[str, str]) -> None:
    if not tags:
        return
    statement = _insert(store, table)
    statement = statement.on_conflict_do_update(index_elements=[*keys, "key"],
                                                set_={"value": statement.excluded.value})
    connection.execute(statement, [dict(keys, key=k, value=v) for k, v in tags.items()])


def _next_version(store: "SqlStore", connection: Connection, name: str, now: float) -> int:
    """Create the model or bump its ``last_version``, atomically: one INSERT ... ON CONFLICT DO UPDATE
    (PostgreSQL locks the row until commit, so concurrent registrations queue; SQLite writers already do)."""
    table = s.registered_models
    statement = _insert(store, table).values(name=name, description="", last_version=1, created_time=now,
                                             updated_time=now)
    statement = statement.on_conflict_do_update(index_elements=["name"], set_={
        "last_version": table.c.last_version + 1, "updated_time": now})
    if store.dialect == "postgresql":
        return connection.execute(statement.returning(table.c.last_version)).scalar_one()
    connection.execute(statement)  # SQLite before 3.35 has no RETURNING; the write lock is held anyway
    return connection.execute(select(table.c.last_version).where(table.c.name == name)).scalar_one()


def register(store: "SqlStore", run_id: str, artifact_name: str, name: str, aliases: Sequence[str] = (),
             tags: dict[str, str] | None = None, description: str | None = None) -> ModelVersion:
    """Add the next version of ``name`` (created if new) pointing at the run's artifact, in one transaction."""
    with store.write() as connection:
        source = resolve_source(store, run_id, artifact_name, connection)
        now = time.time()
        version = _next_version(store, connection, name, now)
        connection.execute(s.model_versions.insert().values(
            name=name, version=version, run_id=source.run_id, artifact_name=source.artifact_name,
            sha256=source.sha256, size=source.size, kind=source.kind, media_type=source.media_type,
            description=description or "", created_time=now))
        _upsert_tags(store, connection, s.model_version_tags, {"name": name, "version": version}, tags or {})
        for alias in aliases:
            _upsert_alias(store, connection, name, alias, version, now)
    return ModelVersion(name, version, source.run_id, source.artifact_name, source.sha256, source.size, source.kind,
                        source.media_type, description or "", now, tuple(sorted(set(aliases))), dict(tags or {}),
                        store)


def create_model(store: "SqlStore", name: str, description: str = "", tags: dict[str, str] | None = None) -> bool:
    """Create a model without versions (MLflow's ``create_registered_model``); False when it exists."""
    with store.write() as connection:
        now = time.time()
        created = connection.execute(_insert(store, s.registered_models).values(
            name=name, description=description, last_version=0, created_time=now, updated_time=now
        ).on_conflict_do_nothing(index_elements=["name"])).rowcount
        if created:
            _upsert_tags(store, connection, s.model_tags, {"name": name}, tags or {})
    return bool(created)


def set_alias(store: "SqlStore", name: str, alias: str, version: int) -> None:
    """Point ``alias`` of ``name`` at ``version`` (moving it if it pointed elsewhere)."""
    with store.write() as connection:
        _lock_model(store, connection, name)
        _require_version(connection, name, version)
        now = time.time()
        _upsert_alias(store, connection, name, alias, version, now)
        _touch(connection, name, now)


def delete_alias(store: "SqlStore", name: str, alias: str) -> None:
    with store.write() as connection:
        _lock_model(store, connection, name)
        removed = connection.execute(delete(s.model_aliases).where(
            s.model_aliases.c.name == name, s.model_aliases.c.alias == alias)).rowcount
        if not removed:
            raise ModelNotFoundError(f"model {name!r} has no alias {alias!r}")
        _touch(connection, name, time.time())


def set_description(store: "SqlStore", name: str, text: str, version: int | None = None) -> None:
    with store.write() as connection:
        _lock_model(store, connection, name)
        now = time.time()
        if version is None:
            _touch(connection, name, now, description=text)
            return
        _require_version(connection, name, version)
        connection.execute(update(s.model_versions).where(
            s.model_versions.c.name == name, s.model_versions.c.version == version).values(description=text))
        _touch(connection, name, now)


def set_tags(store: "SqlStore", name: str, tags: dict[str, str], version: int | None = None) -> None:
    with store.write() as connection:
        _lock_model(store, connection, name)
        if version is None:
            _upsert_tags(store, connection, s.model_tags, {"name": name}, tags)
        else:
            _require_version(connection, name, version)
            _upsert_tags(store, connection, s.model_version_tags, {"name": name, "version": version}, tags)
        _touch(connection, name, time.time())


def delete_tag(store: "SqlStore", name: str, key: str, version: int | None = None) -> None:
    with store.write() as connection:
        _lock_model(store, connection, name)
        if version is None:
            where = (s.model_tags.c.name == name) & (s.model_tags.c.key == key)
            removed = connection.execute(delete(s.model_tags).where(where)).rowcount
        else:
            table = s.model_version_tags
            removed = connection.execute(delete(table).where(
                table.c.name == name, table.c.version == version, table.c.key == key)).rowcount
        if not removed:
            where_text = f"version {version} of model {name!r}" if version else f"model {name!r}"
            raise ModelNotFoundError(f"{where_text} has no tag {key!r}")
        _touch(connection, name, time.time())


def delete_model(store: "SqlStore", name: str, version: int | None = None) -> list[int]:
    """Delete one version (its aliases and tags go with it) or the whole model; returns the versions removed.

    The blobs stay until ``nbtrack gc`` finds nothing referencing them.
    """
    with store.write() as connection:
        _lock_model(store, connection, name)
        where = s.model_versions.c.name == name
        if version is not None:
            _require_version(connection, name, version)
            where = where & (s.model_versions.c.version == version)
        removed = list(connection.execute(select(s.model_versions.c.version).where(where)).scalars())
        connection.execute(delete(s.model_versions).where(where))  # aliases and version tags cascade
        if version is None:
            connection.execute(delete(s.registered_models).where(s.registered_models.c.name == name))
        else:
            _touch(connection, name, time.time())
    return sorted(removed)


# -- reads ------------------------------------------------------------------------------------------

def _versions(store: "SqlStore", connection: Connection, where) -> list[ModelVersion]:
    rows = connection.execute(select(s.model_versions).where(where).order_by(
        s.model_versions.c.name, s.model_versions.c.version)).all()
    return _with_details(store, connection, rows)


def _with_details(store: "SqlStore", connection: Connection, rows: Sequence) -> list[ModelVersion]:
    """ModelVersions of ``model_versions`` rows, with their aliases and tags."""
    if not rows:
        return []
    names = sorted({r.name for r in rows})
    aliases: dict[tuple[str, int], list[str]] = {}
    for name, alias, version in connection.execute(select(
            s.model_aliases.c.name, s.model_aliases.c.alias, s.model_aliases.c.version).where(
            s.model_aliases.c.name.in_(names)).order_by(s.model_aliases.c.alias)):
        aliases.setdefault((name, version), []).append(alias)
    tags: dict[tuple[str, int], dict[str, str]] = {}
    table = s.model_version_tags
    for name, version, key, value in connection.execute(select(
            table.c.name, table.c.version, table.c.key, table.c.value).where(table.c.name.in_(names))
            .order_by(table.c.key)):
        tags.setdefault((name, version), {})[key] = value
    return [ModelVersion(r.name, r.version, r.run_id, r.artifact_name, r.sha256, r.size, r.kind, r.media_type,
                         r.description, r.created_time, tuple(aliases.get((r.name, r.version), ())),
                         tags.get((r.name, r.version), {}), store) for r in rows]


def get_model(store: "SqlStore", name: str) -> RegisteredModel:
    with store.read() as connection:
        row = connection.execute(select(s.registered_models).where(s.registered_models.c.name == name)).first()
        if row is None:
            raise ModelNotFoundError(f"no registered model named {name!r}")
        versions = _versions(store, connection, s.model_versions.c.name == name)
        tags = dict(connection.execute(select(s.model_tags.c.key, s.model_tags.c.value).where(
            s.model_tags.c.name == name).order_by(s.model_tags.c.key)).all())
        aliases = dict(connection.execute(select(s.model_aliases.c.alias, s.model_aliases.c.version).where(
            s.model_aliases.c.name == name).order_by(s.model_aliases.c.alias)).all())
    return RegisteredModel(row.name, row.description, tags, aliases, tuple(versions), row.created_time,
                           row.updated_time, row.last_version)


def get_version(store: "SqlStore", uri: ModelURI, details: bool = True) -> ModelVersion:
    """The version a parsed ``models:/`` URI names: one query (plus its aliases and tags with ``details``)."""
    versions, aliases = s.model_versions, s.model_aliases
    if uri.alias is not None:
        query = select(versions).select_from(versions.join(aliases, (versions.c.name == aliases.c.name) & (
            versions.c.version == aliases.c.version))).where(aliases.c.name == uri.name, aliases.c.alias == uri.alias)
    elif uri.latest:
        query = select(versions).where(versions.c.name == uri.name).order_by(versions.c.version.desc()).limit(1)
    else:
        query = select(versions).where(versions.c.name == uri.name, versions.c.version == uri.version)
    with store.read() as connection:
        row = connection.execute(query).first()
        if row is None:
            _explain_missing(connection, uri)
        if details:
            return _with_details(store, connection, [row])[0]
    return ModelVersion(row.name, row.version, row.run_id, row.artifact_name, row.sha256, row.size, row.kind,
                        row.media_type, row.description, row.created_time, store=store)


def _explain_missing(connection: Connection, uri: ModelURI) -> None:
    """Raise the ModelNotFoundError that says what exists instead."""
    _missing_model(connection, uri.name)
    if uri.alias is not None:
        known = list(connection.execute(select(s.model_aliases.c.alias).where(
            s.model_aliases.c.name == uri.name).order_by(s.model_aliases.c.alias)).scalars())
        raise ModelNotFoundError(f"model {uri.name!r} has no alias {uri.alias!r}",
                                 f"its aliases: {', '.join(known) or 'none'}")
    if uri.latest:
        raise ModelNotFoundError(f"model {uri.name!r} has no versions left")
    _require_version(connection, uri.name, uri.version)


def _missing_model(connection: Connection, name: str) -> None:
    if connection.execute(select(s.registered_models.c.name).where(s.registered_models.c.name == name)).first():
        return
    known = list(connection.execute(select(s.registered_models.c.name).order_by(
        s.registered_models.c.name).limit(10)).scalars())
    raise ModelNotFoundError(f"no registered model named {name!r}",
                             f"registered: {', '.join(known)}" if known else "none is registered yet")


def list_models(store: "SqlStore") -> list[dict]:
    """One dict per registered model: name, versions, latest_version, aliases, description, times."""
    with store.read() as connection:
        models = connection.execute(select(s.registered_models).order_by(s.registered_models.c.name)).all()
        counts = dict(connection.execute(select(s.model_versions.c.name, func.count()).group_by(
            s.model_versions.c.name)).all())
        latest = dict(connection.execute(select(s.model_versions.c.name, func.max(s.model_versions.c.version))
                                         .group_by(s.model_versions.c.name)).all())
        aliases: dict[str, dict[str, int]] = {}
        for name, alias, version in connection.execute(select(
                s.model_aliases.c.name, s.model_aliases.c.alias, s.model_aliases.c.version).order_by(
                s.model_aliases.c.name, s.model_aliases.c.alias)):
            aliases.setdefault(name, {})[alias] = version
    return [{"name": m.name, "versions": int(counts.get(m.name, 0)), "latest_version": latest.get(m.name),
             "aliases": aliases.get(m.name, {}), "description": m.description,
             "created_time": m.created_time, "updated_time": m.updated_time} for m in models]


def versions_by_run(store: "SqlStore", run_ids: Iterable[str]) -> dict[str, list[ModelVersion]]:
    """The registered versions whose artifact came from each of ``run_ids`` (runs without any left out)."""
    ids = sorted(set(run_ids))
    out: dict[str, list[ModelVersion]] = {}
    if not ids:
        return out
    with store.read() as connection:
        for start in range(0, len(ids), 500):
            for version in _versions(store, connection, s.model_versions.c.run_id.in_(ids[start:start + 500])):
                out.setdefault(version.run_id, []).append(version)
    return out


def referenced_blobs(store: "SqlStore", connection: Connection, exclude_runs: Sequence[str] = ()) -> set[str]:
    """Blobs the registry and stored datasets keep alive for ``nbtrack gc``: every registered version's
    content (a directory's manifest and its files) and every stored dataset copy (of runs not in
    ``exclude_runs``)."""
    from .files import read_manifest

    referenced: set[str] = set()

    def keep(sha: str, directory: bool) -> None:
        referenced.add(sha)
        if directory:  # a manifest keeps its files
            referenced.update(entry[0] for entry in read_manifest(store.blobs, sha, missing_ok=True).values())

    for sha, kind in connection.execute(select(s.model_versions.c.sha256, s.model_versions.c.kind)):
        keep(sha, kind == DIRECTORY)
    query = select(s.datasets.c.info).where(s.datasets.c.info.like('%"stored": {%'))
    if exclude_runs:
        query = query.where(s.datasets.c.run_id.not_in(list(exclude_runs)))
    for (info,) in connection.execute(query):
        stored = json.loads(info).get("stored") or {}
        if stored.get("sha256"):
            keep(stored["sha256"], stored.get("format") == DIRECTORY)
    return referenced
