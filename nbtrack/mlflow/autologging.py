"""``mlflow.autolog(...)`` and ``mlflow.<flavor>.autolog(...)`` delegate to ``nbtrack.autolog``
(the autolog layer, imported lazily: a clear NotImplementedError while it is not installed).

MLflow's arguments that nbtrack.autolog takes are passed on; one it does not take raises
NotImplementedError when it asks for something other than MLflow's default.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

# MLflow's autolog arguments and their defaults
MLFLOW_DEFAULTS: dict[str, Any] = {
    "log_input_examples": False, "log_model_signatures": True, "log_models": True, "log_datasets": True,
    "log_traces": True, "disable": False, "exclusive": False, "disable_for_unsupported_versions": False,
    "silent": False, "extra_tags": None, "exclude_flavors": None,
}


def _nbtrack_autolog(call: str = "mlflow.autolog()") -> Any:
    import types

    import nbtrack

    facade = getattr(nbtrack, "autolog", None)
    if callable(facade) and not isinstance(facade, types.ModuleType):
        return facade
    try:
        module = importlib.import_module("nbtrack.autolog")
    except ModuleNotFoundError as error:
        if error.name not in ("nbtrack.autolog",):
            raise
        raise NotImplementedError(
            f"{call} needs nbtrack.autolog(), which this version of nbtrack does not have; "
            "log params and metrics with mlflow.log_params / mlflow.log_metrics meanwhile") from None
    function = getattr(module, "autolog", None)
    if not callable(function):
        raise NotImplementedError("mlflow.autolog(): nbtrack.autolog has no autolog() function in this version")
    return function


def autolog(arguments: dict[str, Any]) -> Any:
    unknown = sorted(set(arguments) - set(MLFLOW_DEFAULTS))
    if unknown:
        raise TypeError(f"mlflow.autolog() got unexpected arguments: {', '.join(unknown)}")
    function = _nbtrack_autolog()
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    passed = {}
    for name, value in arguments.items():
        if takes_any or name in parameters:
            passed[name] = value
        elif value != MLFLOW_DEFAULTS[name]:
            raise NotImplementedError(f"mlflow.autolog({name}={value!r}) is not supported by nbtrack.autolog(); "
                                      f"it takes: {', '.join(parameters) or 'no arguments'}")
    return function(**passed)


# mlflow.<flavor>.autolog -> the framework nbtrack.autolog knows it by
FLAVOR_FRAMEWORKS = {"sklearn": "sklearn", "xgboost": "xgboost", "lightgbm": "lightgbm", "pytorch": "lightning",
                     "lightning": "lightning", "keras": "keras", "tensorflow": "keras", "transformers": "transformers"}
# arguments of MLflow's flavor autologs with no nbtrack counterpart, and their MLflow defaults
MLFLOW_ONLY = {"log_input_examples": False, "log_model_signatures": True, "log_traces": True,
               "registered_model_name": None, "serialization_format": None, "pos_label": None,
               "exclude_flavors": None, "checkpoint": None, "checkpoint_monitor": None, "checkpoint_mode": None,
               "checkpoint_save_best_only": None, "checkpoint_save_weights_only": None,
               "checkpoint_save_freq": None, "log_every_epoch": None, "log_every_n_step": None,
               "model_format": None, "saved_model_kwargs": None, "keras_model_kwargs": None}


def flavor_autolog(flavor: str, arguments: dict[str, Any]) -> Any:
    """``mlflow.<flavor>.autolog(...)``: that framework's switch in nbtrack.autolog."""
    framework = FLAVOR_FRAMEWORKS[flavor]
    _nbtrack_autolog(f"mlflow.{flavor}.autolog()")  # says clearly when the autolog layer is missing
    module = importlib.import_module("nbtrack.autolog")
    passed = {}
    for name, value in arguments.items():
        if name in MLFLOW_ONLY:
            if value not in (MLFLOW_ONLY[name], None) and not (name == "serialization_format" and value):
                raise NotImplementedError(f"mlflow.{flavor}.autolog({name}={value!r}) is not supported by "
                                          f"nbtrack.autolog.{framework}(); leave it out")
            continue
        passed[name] = value
    switch = getattr(module, framework, None)
    if callable(switch):
        return switch(**passed)
    return module.configure(framework, **passed)
