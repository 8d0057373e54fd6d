"""MLflow's model-registry calls on nbtrack's registry (:mod:`nbtrack.registry`).

``mlflow.register_model("runs:/<run_id>/<path>", name)`` registers the run's artifact as the next
version; ``mlflow.<flavor>.load_model("models:/churn@champion")`` loads through
``nbtrack.load_model`` (safe by default: an extra ``trust=`` argument says what to trust);
``MlflowClient``'s registered-model and model-version calls act on the same tables. Entities are
MLflow-shaped: versions are strings, times milliseconds, ``current_stage`` is always ``"None"``
(aliases replace stages, as in MLflow 2.9+).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from .entities import PagedList, to_millis
from .exceptions import MlflowException

if TYPE_CHECKING:  # pragma: no cover
    from ..registry.records import ModelVersion as NbtrackVersion
    from ..registry.records import RegisteredModel as NbtrackModel
    from ..store.sql import SqlStore


@dataclass(frozen=True)
class ModelVersion:
    """``mlflow.entities.model_registry.ModelVersion``."""

    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str
    source: str
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    user_id: str = ""
    current_stage: str = "None"
    status: str = "READY"
    status_message: str = ""
    run_link: str = ""


@dataclass(frozen=True)
class RegisteredModel:
    """``mlflow.entities.model_registry.RegisteredModel``."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


def to_version(version: "NbtrackVersion") -> ModelVersion:
    created = to_millis(version.created_time) or 0
    return ModelVersion(version.name, str(version.version), created, created, version.description,
                        f"runs:/{version.run_id}/{version.artifact_name}", version.run_id, dict(version.tags),
                        list(version.aliases))


def to_model(model: "NbtrackModel") -> RegisteredModel:
    latest = [to_version(model.latest)] if model.latest is not None else []
    return RegisteredModel(model.name, to_millis(model.created_time) or 0, to_millis(model.updated_time) or 0,
                           model.description, latest, dict(model.tags),
                           {alias: str(version) for alias, version in model.aliases.items()})


def source_of(model_uri: str) -> tuple[str, str]:
    """(run id, artifact name) that ``runs:/<run_id>/<path>`` or a ``models:/`` URI names."""
    import nbtrack

    from ..registry.names import is_model_uri

    text = str(model_uri)
    if is_model_uri(text):
        version = nbtrack.get_model_version(text)
        return version.run_id, version.artifact_name
    if text.startswith("runs:/"):
        run_id, _, path = text[len("runs:/"):].partition("/")
        if run_id and path.strip("/"):
            return run_id, path.strip("/")
    raise MlflowException(f"cannot register {text!r}: nbtrack registers a run's artifact, runs:/<run_id>/<path> "
                          "(e.g. runs:/3f2a.../model.skops), or an existing version, models:/NAME/VERSION")


def register_model(model_uri: str, name: str, await_registration_for: int = 300, *,
                   tags: dict[str, Any] | None = None) -> ModelVersion:
    """``mlflow.register_model``: the artifact becomes the next version of ``name`` (created if new)."""
    import nbtrack

    run_id, path = source_of(model_uri)
    return to_version(nbtrack.register_model(run_id, path, name, tags=tags))


def load_model(model_uri: str, dst_path: str | os.PathLike | None = None, *, trust: bool | Sequence[str] = False,
               **_flavor_options: Any) -> Any:
    """``mlflow.<flavor>.load_model``: ``models:/`` or ``runs:/<run_id>/<path>``, through ``nbtrack.load_model``
    (skops types checked, pickles only with ``trust=True``)."""
    import nbtrack

    from ..registry.names import is_model_uri

    if is_model_uri(str(model_uri)):
        return nbtrack.load_model(str(model_uri), trust=trust, dest=dst_path)
    run_id, path = source_of(model_uri)
    return nbtrack.load_model(run_id, path, trust=trust, dest=dst_path)


def _version_field(version: ModelVersion, key: str) -> Any:
    if key in ("name", "run_id", "source", "version", "description"):
        return getattr(version, key)
    if key.startswith("tags."):
        return version.tags.get(key[len("tags."):])
    raise MlflowException(f"search_model_versions: cannot filter on {key!r}; use name, run_id, source, version "
                          "or tags.<key>")


class RegistryCalls:
    """The ``MlflowClient`` registry methods (mixed into :class:`nbtrack.mlflow.client.MlflowClient`,
    whose ``_store`` they use)."""

    _store: "SqlStore"

    # --- registered models ---------------------------------------------------------------

    def create_registered_model(self, name: str, tags: dict[str, Any] | None = None,
                                description: str | None = None) -> RegisteredModel:
        from ..registry import catalog
        from ..registry.names import check_description, check_model_name, check_tags

        name = check_model_name(name)
        if not catalog.create_model(self._store, name, check_description(description or ""), check_tags(tags)):
            raise MlflowException(f"a registered model named {name!r} already exists", "RESOURCE_ALREADY_EXISTS")
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        from ..registry import catalog
        from ..registry.names import check_model_name

        return to_model(catalog.get_model(self._store, check_model_name(name)))

    def search_registered_models(self, filter_string: str | None = None, max_results: int = 100,
                                 order_by: list[str] | None = None, page_token: str | None = None) -> PagedList:
        """Registered models, filtered on ``name`` (``=``, ``LIKE``, ``ILIKE``, ``IN``), by name."""
        from ..registry import catalog
        from .selection import item_filter

        names = [row["name"] for row in catalog.list_models(self._store)]
        keep = item_filter(filter_string, lambda name, key: name if key == "name" else _refuse_key(key))
        return PagedList([self.get_registered_model(n) for n in names if keep(n)][:max_results])

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        if description is not None:
            self._catalog_call("set_description", name, description)
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        self._catalog_call("delete_model", name)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version (nbtrack has no stages: ``stages`` is ignored, as aliases replace them)."""
        return list(self.get_registered_model(name).latest_versions)

    # --- versions -------------------------------------------------------------------------

    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: dict[str, Any] | None = None, run_link: str | None = None,
                             description: str | None = None, await_creation_for: int = 300) -> ModelVersion:
        """A new version of ``name`` from ``runs:/<run_id>/<path>``, or from ``run_id`` and an artifact path."""
        from ..registry import catalog
        from ..registry.names import check_description, check_model_name, check_tags

        if run_id is not None and not str(source).startswith(("runs:/", "models:/")):
            source = f"runs:/{run_id}/{source}"
        source_run, path = source_of(source)
        version = catalog.register(self._store, source_run, path, check_model_name(name), (), check_tags(tags),
                                   check_description(description) if description is not None else None)
        return to_version(version)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return to_version(self._version(f"models:/{name}/{version}"))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return to_version(self._version(f"models:/{name}@{alias}"))

    def search_model_versions(self, filter_string: str | None = None, max_results: int = 10_000,
                              order_by: list[str] | None = None, page_token: str | None = None) -> PagedList:
        """Versions matching ``name = 'x'``, ``run_id = '...'``, ``tags.k = 'v'`` ..., newest first."""
        from ..registry import catalog
        from .selection import item_filter

        keep = item_filter(filter_string, _version_field)
        found = [to_version(v) for row in catalog.list_models(self._store)
                 for v in catalog.get_model(self._store, row["name"]).versions]
        found = [v for v in found if keep(v)]
        found.sort(key=lambda v: (v.name, -int(v.version)))
        return PagedList(found[:max_results])

    def update_model_version(self, name: str, version: str | int, description: str | None = None) -> ModelVersion:
        if description is not None:
            self._catalog_call("set_description", name, description, version)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._catalog_call("delete_model", name, version)

    # --- aliases and tags -------------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._catalog_call("set_alias", name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._catalog_call("delete_alias", name, alias)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._catalog_call("set_tags", name, {key: value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._catalog_call("delete_tag", name, key)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        self._catalog_call("set_tags", name, {key: value}, version)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._catalog_call("delete_tag", name, key, version)

    # --- plumbing ---------------------------------------------------------------------------

    def _version(self, uri: str) -> "NbtrackVersion":
        from ..registry import catalog
        from ..registry.names import parse_model_uri

        return catalog.get_version(self._store, parse_model_uri(uri))

    def _catalog_call(self, call: str, name: str, *arguments: Any) -> Any:
        """A registry change on this client's store, with the argument checks of ``nbtrack``'s own calls."""
        from ..registry import catalog
        from ..registry.names import check_alias, check_description, check_model_name, check_tags, check_version

        checked: list[Any] = [check_model_name(name)]
        if call == "set_alias":
            checked += [check_alias(arguments[0]), check_version(arguments[1])]
        elif call == "set_description":
            checked += [check_description(arguments[0]), *[check_version(v) for v in arguments[1:]]]
        elif call == "set_tags":
            checked += [check_tags(arguments[0]), *[check_version(v) for v in arguments[1:]]]
        elif call == "delete_tag":
            checked += [arguments[0], *[check_version(v) for v in arguments[1:]]]
        elif call == "delete_alias":
            checked += [check_alias(arguments[0])]
        else:  # delete_model
            checked += [check_version(v) for v in arguments]
        return getattr(catalog, call)(self._store, *checked)


def _refuse_key(key: str) -> Any:
    raise MlflowException(f"search_registered_models: cannot filter on {key!r}; filter on name")
