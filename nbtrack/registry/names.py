"""Model names, aliases and ``models:/`` URIs: checked once at the entry points.

``models:/churn/3`` is version 3, ``models:/churn@champion`` the version the alias points at,
``models:/churn/latest`` the newest version. A name therefore holds no ``/`` or ``@``; an alias
looks like an identifier, and ``latest`` or ``v3``-like aliases are refused (they would read as
versions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..values import check_key, check_name, check_text, tag_value

MAX_NAME = 250
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,249}$")
_VERSION_LIKE = re.compile(r"^[vV]\d+$")
LATEST = "latest"


def check_model_name(name: object) -> str:
    """``name`` when it can name a registered model, else ValueError saying why."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a model name is a non-empty string, got {name!r}")
    if name != name.strip():
        raise ValueError(f"a model name has no leading or trailing spaces, got {name!r}")
    if len(name) > MAX_NAME:
        raise ValueError(f"a model name has at most {MAX_NAME} characters, got {len(name)}")
    bad = [c for c in "/@" if c in name] + (["a control character"] if any(ord(c) < 32 or ord(c) == 127
                                                                            for c in name) else [])
    if bad:
        raise ValueError(f"model name {name!r} holds {' and '.join(repr(b) if len(b) == 1 else b for b in bad)}: "
                         "names appear in models:/NAME/VERSION and models:/NAME@ALIAS, pick one without them")
    return check_name("model name", name)


def check_alias(alias: object) -> str:
    """``alias`` when it can be an alias (``champion``, ``staging``), else ValueError saying why."""
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise ValueError(f"an alias starts with a letter or '_' and holds letters, digits, '_', '.', '-' "
                         f"(at most 250), such as 'champion'; got {alias!r}")
    if alias.lower() == LATEST or _VERSION_LIKE.match(alias):
        raise ValueError(f"alias {alias!r} would read as a version (models:/NAME/latest, models:/NAME/3): "
                         "pick another, such as 'champion'")
    return alias


def is_version_text(text: str) -> bool:
    """``"3"`` or ``"v3"``: text that names a version, not an alias."""
    return text.strip().isdigit() or bool(_VERSION_LIKE.match(text.strip()))


def check_version(version: object) -> int:
    """A version number (1, 2, ...) from an int or its text (``"3"``, ``"v3"``)."""
    if isinstance(version, bool):
        raise ValueError(f"a model version is a positive integer, got {version!r}")
    if isinstance(version, str) and is_version_text(version):
        version = int(version.strip().lstrip("vV"))  # "3" or "v3", as versions are shown
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"a model version is a positive integer such as 3, got {version!r}")
    return version


def check_tags(tags: dict | None) -> dict[str, str]:
    """Tags of a model or version: keys as run tags' keys, values as text."""
    return {check_key("tag", k): tag_value(k, v) for k, v in (tags or {}).items()}


def check_description(text: object) -> str:
    """A description: any text the store can keep."""
    if not isinstance(text, str):
        raise TypeError(f"a description is text, not {type(text).__name__}")
    return check_text("description", text)


@dataclass(frozen=True)
class ModelURI:
    """A parsed ``models:/`` URI: exactly one of ``version``, ``alias`` or ``latest`` is set."""

    name: str
    version: int | None = None
    alias: str | None = None
    latest: bool = False

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        return f"models:/{self.name}/{LATEST if self.latest else self.version}"


def is_model_uri(text: object) -> bool:
    return isinstance(text, str) and text.startswith("models:/")


def parse_model_uri(uri: str) -> ModelURI:
    """``models:/NAME/VERSION``, ``models:/NAME/latest`` or ``models:/NAME@ALIAS``."""
    usage = "use models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS, e.g. models:/churn@champion"
    if not is_model_uri(uri):
        raise ValueError(f"{uri!r} is not a model URI: {usage}")
    rest = uri[len("models:/"):]
    if "@" in rest and "/" not in rest:
        name, alias = rest.split("@", 1)
        return ModelURI(check_model_name(name), alias=check_alias(alias))
    name, slash, version = rest.rpartition("/")
    if not slash or not name:
        raise ValueError(f"{uri!r} names no version or alias: {usage}")
    if version == LATEST:
        return ModelURI(check_model_name(name), latest=True)
    try:
        return ModelURI(check_model_name(name), version=check_version(version))
    except ValueError as error:
        raise ValueError(f"{uri!r}: {error}; {usage}") from None
