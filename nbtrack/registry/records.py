"""RegisteredModel and ModelVersion: the registry's rows, read back (plain data plus ``load``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from ..formatting import format_time

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model: a pinned artifact of one run.

    ``sha256``, ``kind`` and ``media_type`` are the artifact's content when it was registered:
    a version never changes, even if the run logs that artifact name again or is purged.
    ``kind`` is an artifact kind, or ``"directory"`` for a logged directory (``sha256`` is then
    the manifest that lists its files).
    """

    name: str
    version: int
    run_id: str
    artifact_name: str
    sha256: str
    size: int
    kind: str
    media_type: str
    description: str
    created_time: float
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    store: "SqlStore | None" = field(default=None, repr=False, compare=False)

    @property
    def uri(self) -> str:
        """``models:/NAME/VERSION``."""
        return f"models:/{self.name}/{self.version}"

    @property
    def label(self) -> str:
        """``churn v3 @champion @staging``: how tables and badges show it."""
        return " ".join([f"{self.name} v{self.version}", *(f"@{a}" for a in self.aliases)])

    def load(self, trust: "bool | Sequence[str]" = False, dest: str | None = None) -> Any:
        """The model object (see :func:`nbtrack.load_model` for ``trust`` and what each kind gives)."""
        from .loading import load_content

        return load_content(self.store, self.sha256, self.kind, self.media_type, self.artifact_name,
                            trust=trust, call=repr(self.uri), dest=dest, size=self.size)

    def required_trust(self) -> list[str]:
        """What loading needs trusted: the types skops does not trust by default, or the globals a
        pickle imports (read without unpickling); empty for every other kind."""
        from .loading import required_trust

        return required_trust(self.store, self.sha256, self.kind, self.artifact_name)

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "uri": self.uri, "run_id": self.run_id,
                "artifact_name": self.artifact_name, "sha256": self.sha256, "size": self.size,
                "kind": self.kind, "media_type": self.media_type, "description": self.description,
                "created_time": self.created_time, "aliases": list(self.aliases), "tags": dict(self.tags)}

    def __str__(self) -> str:
        return f"{self.label}  (run {self.run_id[:8]}, {self.artifact_name}, {format_time(self.created_time)})"


@dataclass(frozen=True)
class RegisteredModel:
    """A named model: its description, tags, aliases and versions (oldest first)."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: tuple[ModelVersion, ...]
    created_time: float
    updated_time: float
    last_version: int

    @property
    def latest(self) -> ModelVersion | None:
        """The newest version still registered (None when every version was deleted)."""
        return self.versions[-1] if self.versions else None

    def version(self, number: int | str) -> ModelVersion:
        """Version ``number``, or the one alias ``number`` points at."""
        from ..errors import ModelNotFoundError

        if isinstance(number, str) and not number.isdigit():
            if number not in self.aliases:
                raise ModelNotFoundError(f"model {self.name!r} has no alias {number!r}",
                                         f"its aliases: {', '.join(self.aliases) or 'none'}")
            number = self.aliases[number]
        for candidate in self.versions:
            if candidate.version == int(number):
                return candidate
        raise ModelNotFoundError(f"model {self.name!r} has no version {number}",
                                 f"its versions: {', '.join(str(v.version) for v in self.versions) or 'none'}")

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "tags": dict(self.tags),
                "aliases": dict(self.aliases), "created_time": self.created_time,
                "updated_time": self.updated_time, "versions": [v.to_dict() for v in self.versions]}

    def __str__(self) -> str:
        aliases = ", ".join(f"@{a}=v{v}" for a, v in sorted(self.aliases.items()))
        return f"{self.name}: {len(self.versions)} versions{', ' + aliases if aliases else ''}"
