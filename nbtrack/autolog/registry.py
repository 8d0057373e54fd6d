"""The frameworks autolog knows, as data, and each one's current settings.

A :class:`Framework` names the modules whose import turns its adapter on (``triggers``), the
adapter module (imported only then), and the versions it is tested with. ``SETTINGS`` holds
what the user last asked for with ``nbtrack.autolog(...)`` or ``nbtrack.autolog.<name>(...)``;
the adapters read it on every call, so changing a setting needs no re-patching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Framework:
    """One supported framework.

    ``triggers``: modules whose import installs the adapter (each one installed separately,
    e.g. ``lightning.pytorch`` and ``pytorch_lightning``). ``minimum``/``below``: the tested
    version range, ``minimum <= version < below``. ``models_by_default``: whether
    ``log_models=None`` means True (small models) or False (checkpoints that can weigh GBs).
    """

    name: str
    package: str
    triggers: tuple[str, ...]
    adapter: str
    minimum: str
    below: str
    models_by_default: bool = True

    @property
    def supported(self) -> str:
        return f">={self.minimum},<{self.below}"


FRAMEWORKS: dict[str, Framework] = {f.name: f for f in (
    Framework("sklearn", "scikit-learn", ("sklearn.base", "sklearn.model_selection"),
              "nbtrack.autolog.adapters.sklearn", "1.2", "1.10"),
    Framework("xgboost", "xgboost", ("xgboost",), "nbtrack.autolog.adapters.xgboost", "2.0", "3.5"),
    Framework("lightgbm", "lightgbm", ("lightgbm",), "nbtrack.autolog.adapters.lightgbm", "4.0", "4.8"),
    Framework("lightning", "lightning", ("lightning.pytorch", "pytorch_lightning"),
              "nbtrack.autolog.adapters.lightning", "2.0", "2.7", models_by_default=False),
    Framework("keras", "keras", ("keras",), "nbtrack.autolog.adapters.keras", "3.0", "3.16"),
    Framework("transformers", "transformers", ("transformers.trainer",),
              "nbtrack.autolog.adapters.transformers", "4.40", "5.26", models_by_default=False),
)}


def framework(name: str) -> Framework:
    """The framework called ``name``; the error lists the known ones."""
    try:
        return FRAMEWORKS[name]
    except KeyError:
        raise ValueError(f"unknown autolog framework {name!r}; known: {', '.join(FRAMEWORKS)}") from None


@dataclass(frozen=True)
class Settings:
    """What one framework's autolog does. ``options`` holds framework-specific switches
    (scikit-learn: ``max_tuning_runs``, ``log_training_metrics``)."""

    enabled: bool = False
    log_models: bool | None = None
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    disable_for_unsupported_versions: bool = False
    extra_tags: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def models(self, framework_name: str) -> bool:
        """Whether models are logged (``log_models=None`` is the framework's default)."""
        if self.log_models is None:
            return FRAMEWORKS[framework_name].models_by_default
        return self.log_models

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    def updated(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


SETTINGS: dict[str, Settings] = {name: Settings() for name in FRAMEWORKS}


def settings(name: str) -> Settings:
    return SETTINGS[name]


def enabled(name: str) -> bool:
    return SETTINGS[name].enabled


def version_tuple(text: str) -> tuple[int, ...]:
    """``"1.9.1"`` -> (1, 9, 1); ``"2.6.0rc1"`` -> (2, 6, 0); ``"5.0.0.dev0"`` -> (5, 0, 0)."""
    numbers = []
    for part in str(text).split("+")[0].split(".")[:3]:
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
    return tuple(numbers)


def is_supported(fw: Framework, version: str) -> bool:
    found = version_tuple(version)
    return version_tuple(fw.minimum) <= found < version_tuple(fw.below)
