"""Automatic logging for training frameworks: ``nbtrack.autolog()``.

::

    import nbtrack
    nbtrack.autolog()                      # every supported framework, now or when imported
    nbtrack.autolog(sklearn=False)         # all but scikit-learn
    nbtrack.autolog.sklearn(max_tuning_runs=10, log_models=False)   # one framework, its options
    nbtrack.autolog(disable=True)          # everything off, the frameworks as they were

Each framework's adapter (``nbtrack/autolog/adapters/``) is imported only when the framework
is: calling ``nbtrack.autolog()`` before ``import sklearn`` works, and nbtrack imports no
framework itself. Outside any run an autologged training call starts its own run and ends it;
inside ``%%track`` or ``with nbtrack.track()`` it logs into that run (see docs/autolog.md).
The callbacks can also be used by hand: :data:`NbtrackLogger` (PyTorch Lightning),
:data:`NbtrackKerasCallback` (Keras 3), :data:`NbtrackTrainerCallback` (transformers).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from . import importhook, patching, registry
from .registry import FRAMEWORKS, Settings
from .report import AutologWarning

__all__ = ["autolog", "configure", "sklearn", "xgboost", "lightgbm", "lightning", "keras", "transformers", "status",
           "AutologWarning", "NbtrackLogger", "NbtrackKerasCallback", "NbtrackTrainerCallback"]


def autolog(disable: bool = False, *, log_models: bool | None = None, log_datasets: bool = True,
            exclusive: bool = False, silent: bool = False, extra_tags: dict[str, Any] | None = None,
            disable_for_unsupported_versions: bool = False, sklearn: bool = True, xgboost: bool = True,
            lightgbm: bool = True, lightning: bool = True, keras: bool = True, transformers: bool = True) -> None:
    """Turn automatic logging on (or off with ``disable=True``) for every supported framework.

    ``log_models``: save trained models as artifacts (None: each framework's default, on for
    scikit-learn, XGBoost, LightGBM and Keras, off for Lightning and transformers, whose
    checkpoints can weigh gigabytes). ``log_datasets``: fingerprint the training data.
    ``exclusive``: log nothing into a run the user started. ``silent``: no warnings from
    autolog. ``extra_tags``: tags for every run autolog starts. ``disable_for_unsupported_versions``:
    skip a framework whose version is outside the tested range (else warn and go on).
    ``sklearn=False`` etc. turn one framework off; ``nbtrack.autolog.<framework>(...)`` sets
    its own options.
    """
    switches = {"sklearn": sklearn, "xgboost": xgboost, "lightgbm": lightgbm, "lightning": lightning,
                "keras": keras, "transformers": transformers}
    for name, on in switches.items():
        configure(name, disable=disable or not on, log_models=log_models, log_datasets=log_datasets,
                  exclusive=exclusive, silent=silent, extra_tags=extra_tags,
                  disable_for_unsupported_versions=disable_for_unsupported_versions)


def configure(name: str, disable: bool = False, *, log_models: bool | None = None, log_datasets: bool = True,
              exclusive: bool = False, silent: bool = False, extra_tags: dict[str, Any] | None = None,
              disable_for_unsupported_versions: bool = False, **options: Any) -> None:
    """Turn one framework's autolog on with these settings, or off (the per-framework functions)."""
    fw = registry.framework(name)
    if extra_tags is not None and not isinstance(extra_tags, dict):
        raise TypeError(f"extra_tags must be a dict of tag names to values, not {type(extra_tags).__name__}")
    if log_models is not None and not isinstance(log_models, bool):
        raise TypeError(f"log_models must be True, False or None, not {log_models!r}")
    if disable:
        registry.SETTINGS[name] = Settings(silent=silent)  # off, and back to the defaults
        for trigger in fw.triggers:
            importhook.forget(trigger, _installer(name))
        patching.restore(name)
        return
    registry.SETTINGS[name] = Settings(
        enabled=True, log_models=log_models, log_datasets=log_datasets, exclusive=exclusive, silent=silent,
        disable_for_unsupported_versions=disable_for_unsupported_versions, extra_tags=dict(extra_tags or {}),
        options=options)
    for trigger in fw.triggers:
        importhook.when_imported(trigger, _installer(name))


_installers: dict[str, Any] = {}


def _installer(name: str) -> Any:
    """The (one) import hook that installs framework ``name``'s adapter."""
    if name not in _installers:
        def install(module: types.ModuleType) -> None:
            _install(name, module)
        _installers[name] = install
    return _installers[name]


def _install(name: str, module: types.ModuleType) -> None:
    from . import report

    fw = FRAMEWORKS[name]
    settings = registry.settings(name)
    if not settings.enabled:
        return
    version = _version(module)
    if version is not None and not registry.is_supported(fw, version):
        if settings.disable_for_unsupported_versions:
            report.notice(name, f"{fw.package} {version} is outside the tested range {fw.supported}: not logged")
            return
        report.notice(name, f"{fw.package} {version} is outside the tested range {fw.supported}; logging anyway")
    adapter = importlib.import_module(fw.adapter)
    adapter.install(module)


def _version(module: types.ModuleType) -> str | None:
    top = sys.modules.get(module.__name__.split(".")[0], module)
    version = getattr(top, "__version__", None)
    return str(version) if version is not None else None


def status() -> dict[str, dict[str, Any]]:
    """Per framework: ``enabled``, ``installed`` (its adapter is patched in), ``waiting`` (for
    the framework's import), ``version`` (when imported) and the tested range."""
    waiting = set(importhook.waiting())
    result = {}
    for name, fw in FRAMEWORKS.items():
        imported = next((sys.modules[t] for t in fw.triggers if t in sys.modules), None)
        result[name] = {"enabled": registry.enabled(name), "installed": bool(patching.patched(name)),
                        "waiting": any(t in waiting for t in fw.triggers),
                        "version": _version(imported) if imported is not None else None,
                        "supported": fw.supported}
    return result


def _framework_switch(name: str, extra: str = "") -> Any:
    def switch(disable: bool = False, *, log_models: bool | None = None, log_datasets: bool = True,
               exclusive: bool = False, silent: bool = False, extra_tags: dict[str, Any] | None = None,
               disable_for_unsupported_versions: bool = False, **options: Any) -> None:
        configure(name, disable, log_models=log_models, log_datasets=log_datasets, exclusive=exclusive,
                  silent=silent, extra_tags=extra_tags,
                  disable_for_unsupported_versions=disable_for_unsupported_versions, **_check_options(name, options))
    switch.__name__ = switch.__qualname__ = name
    switch.__doc__ = (f"Autolog {FRAMEWORKS[name].package} only (``disable=True``: off); the settings are those "
                      f"of :func:`autolog`.{extra}")
    return switch


_OPTIONS = {
    "sklearn": {"max_tuning_runs": 5, "log_training_metrics": True},
}


def _check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    known = _OPTIONS.get(name, {})
    unknown = sorted(set(options) - set(known))
    if unknown:
        valid = ", ".join(known) or "none"
        raise TypeError(f"nbtrack.autolog.{name}() got unknown option(s) {', '.join(unknown)}; "
                        f"its own options: {valid}")
    if name == "sklearn" and "max_tuning_runs" in options:
        runs = options["max_tuning_runs"]
        if runs is not None and (not isinstance(runs, int) or isinstance(runs, bool) or runs < 0):
            raise ValueError(f"max_tuning_runs must be None (all) or an integer >= 0, got {runs!r}")
    return {**known, **options}


sklearn = _framework_switch("sklearn", " ``max_tuning_runs`` (default 5; None: all): the best candidates of a "
                            "search logged as child runs; ``log_training_metrics`` (default True).")
xgboost = _framework_switch("xgboost")
lightgbm = _framework_switch("lightgbm")
lightning = _framework_switch("lightning")
keras = _framework_switch("keras")
transformers = _framework_switch("transformers")

_LAZY = {
    "NbtrackLogger": ("nbtrack.autolog.adapters.lightning", "NbtrackLogger"),
    "NbtrackKerasCallback": ("nbtrack.autolog.adapters.keras", "NbtrackKerasCallback"),
    "NbtrackTrainerCallback": ("nbtrack.autolog.adapters.transformers", "NbtrackTrainerCallback"),
}


def __getattr__(name: str) -> Any:
    """The callbacks, imported (with their framework) on first use."""
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'nbtrack.autolog' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``nbtrack.autolog(...)`` calls :func:`autolog`; ``nbtrack.autolog.sklearn(...)`` one framework."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return autolog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
