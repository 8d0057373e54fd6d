"""The model registry: named models whose numbered versions point at run artifacts.

``register_model(run, "model.skops", "churn", alias="champion")`` adds version 1, 2, ... of
``churn``; ``load_model("models:/churn@champion")`` loads it safely (see
:mod:`nbtrack.registry.loading`). An alias moves from version to version; a version never
changes (it pins the artifact's content). Importing this module imports no SQLAlchemy.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .names import (
    check_alias,
    check_description,
    check_model_name,
    check_tags,
    check_version,
    is_model_uri,
    is_version_text,
    parse_model_uri,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..store.sql import SqlStore
    from .records import ModelVersion, RegisteredModel

__all__ = ["register_model", "load_model", "models", "get_model", "get_model_version", "set_model_alias",
           "delete_model_alias", "set_model_description", "set_model_tags", "delete_model_tag", "delete_model"]


def _store() -> "SqlStore":
    from .resolve import current_store

    return current_store()


def _run_and_store(run: Any) -> tuple["SqlStore", str]:
    from .resolve import store_and_run_id

    return store_and_run_id(run)


def _optional_version(version: int | str | None) -> int | None:
    return None if version is None else check_version(version)


def _aliases(alias: str | Iterable[str] | None) -> list[str]:
    if alias is None:
        return []
    return [check_alias(alias)] if isinstance(alias, str) else [check_alias(a) for a in alias]


def register_model(run: Any, artifact_name: str, name: str, alias: str | Iterable[str] | None = None,
                   tags: dict[str, Any] | None = None, description: str | None = None) -> "ModelVersion":
    """Register ``run``'s artifact ``artifact_name`` as the next version (1, 2, ...) of model ``name``.

    ``run`` is a :class:`Run` (flushed first), a ``RunRecord`` or a run id (a unique prefix is
    enough). A logged directory can be registered by its name. ``alias`` (one or a list, e.g.
    ``"champion"``) moves to the new version; ``tags`` and ``description`` are the version's.
    The version pins the artifact's content: it never changes afterwards. Concurrent
    registrations from any number of clients get distinct numbers.
    """
    from . import catalog

    name = check_model_name(name)
    aliases, version_tags = _aliases(alias), check_tags(tags)
    text = check_description(description) if description is not None else None
    store, run_id = _run_and_store(run)
    return catalog.register(store, run_id, artifact_name, name, aliases, version_tags, text)


def get_model_version(model: str, version: int | str | None = None) -> "ModelVersion":
    """A version by URI (``"models:/churn@champion"``, ``"models:/churn/3"``, ``"models:/churn/latest"``)
    or by name and version number or alias (``get_model_version("churn", 3)``)."""
    from . import catalog

    if version is not None:
        if isinstance(version, str) and version != "latest" and not is_version_text(version):
            uri = f"models:/{check_model_name(model)}@{check_alias(version)}"
        else:
            uri = f"models:/{check_model_name(model)}/{'latest' if version == 'latest' else check_version(version)}"
    elif is_model_uri(model):
        uri = model
    else:
        raise ValueError(f"{model!r} is not a model URI: pass models:/NAME/VERSION or models:/NAME@ALIAS, "
                         "or a name and a version")
    return catalog.get_version(_store(), parse_model_uri(uri))


def load_model(model: Any, artifact_name: str | None = None, *, trust: bool | Sequence[str] = False,
               dest: str | os.PathLike | None = None) -> Any:
    """Load a registered version or a run's artifact as an object, safely.

    ``model`` is a URI (``"models:/churn@champion"``, ``"models:/churn/3"``, ``"models:/churn/latest"``),
    a ``ModelVersion``, or a run (id, prefix, Run or RunRecord) with ``artifact_name``.

    - skops files load when every type in them is one skops trusts by default or is listed in
      ``trust=[...]``; otherwise ``UntrustedModelError`` names the types and the call to make.
    - pickles and joblib files load only with ``trust=True`` (or ``trust=[...]`` naming the only
      globals they may import); the error lists what they import.
    - a directory, or a binary file of another format, comes back as a local path (in ``dest``,
      else in nbtrack's cache); text, JSON and DataFrames as their objects.

    Inside an active run the loaded version is recorded as an input of that run (its lineage).
    """
    from . import catalog
    from .lineage import record_model_use
    from .loading import load_content
    from .records import ModelVersion

    if isinstance(model, ModelVersion):
        version = model
    elif is_model_uri(model):
        if artifact_name is not None:
            raise ValueError("a models:/ URI names the artifact itself: drop artifact_name")
        version = catalog.get_version(_store(), parse_model_uri(model), details=False)  # no aliases/tags: faster
    else:
        if artifact_name is None:
            raise ValueError(f"{model!r} is not a models:/ URI: pass models:/NAME/VERSION or models:/NAME@ALIAS, "
                             "or a run and the artifact name: load_model(run_id, 'model.skops')")
        store, run_id = _run_and_store(model)
        source = catalog.resolve_source(store, run_id, artifact_name)
        call = f"{source.run_id[:8]!r}, {artifact_name!r}"
        value = load_content(store, source.sha256, source.kind, source.media_type, source.artifact_name,
                             trust=trust, call=call, dest=dest, size=source.size)
        record_model_use({"run_id": source.run_id, "artifact": artifact_name, "sha256": source.sha256})
        return value
    value = version.load(trust=trust, dest=dest)
    record_model_use({"name": version.name, "version": version.version, "run_id": version.run_id,
                      "artifact": version.artifact_name, "sha256": version.sha256})
    return value


def models() -> "pd.DataFrame":
    """Registered models: name, versions, latest_version, aliases ({alias: version}), description,
    created_time, updated_time (UTC)."""
    import pandas as pd

    from . import catalog

    frame = pd.DataFrame(catalog.list_models(_store()), columns=[
        "name", "versions", "latest_version", "aliases", "description", "created_time", "updated_time"])
    for column in ("created_time", "updated_time"):
        frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    return frame


def get_model(name: str) -> "RegisteredModel":
    """A registered model with its description, tags, aliases and every version."""
    from . import catalog

    return catalog.get_model(_store(), check_model_name(name))


def set_model_alias(name: str, alias: str, version: int) -> None:
    """Point ``alias`` (e.g. ``"champion"``) of model ``name`` at ``version``; it moves if it pointed elsewhere."""
    from . import catalog

    catalog.set_alias(_store(), check_model_name(name), check_alias(alias), check_version(version))


def delete_model_alias(name: str, alias: str) -> None:
    """Remove an alias (the version stays)."""
    from . import catalog

    catalog.delete_alias(_store(), check_model_name(name), check_alias(alias))


def set_model_description(name: str, description: str, version: int | None = None) -> None:
    """Set the description of the model, or of one of its versions."""
    from . import catalog

    catalog.set_description(_store(), check_model_name(name), check_description(description),
                            _optional_version(version))


def set_model_tags(name: str, tags: dict[str, Any], version: int | None = None) -> None:
    """Set tags of the model, or of one of its versions."""
    from . import catalog

    catalog.set_tags(_store(), check_model_name(name), check_tags(tags), _optional_version(version))


def delete_model_tag(name: str, key: str, version: int | None = None) -> None:
    """Remove a tag of the model, or of one of its versions."""
    from . import catalog

    catalog.delete_tag(_store(), check_model_name(name), key, _optional_version(version))


def delete_model(name: str, version: int | None = None) -> list[int]:
    """Delete one version (its aliases and tags with it) or, without ``version``, the whole model.

    Returns the version numbers removed. Numbers are never reused; ``nbtrack gc`` frees the content
    once nothing else references it.
    """
    from . import catalog

    return catalog.delete_model(_store(), check_model_name(name), _optional_version(version))
