"""The MLflow calls nbtrack.mlflow does not support, as data: each raises NotImplementedError
naming the call and what to use instead. Never a silent no-op."""

from __future__ import annotations

import types
from typing import Any, Callable, NoReturn

# call -> what to use in nbtrack instead
CALLS: dict[str, str] = {
    "delete_tag": "set the tag to another value with mlflow.set_tag (nbtrack keeps tags of live runs)",
    "set_experiment_tag": "nbtrack experiments have no tags: tag the runs (mlflow.set_tags / nbtrack.tag_run)",
    "set_experiment_tags": "nbtrack experiments have no tags: tag the runs (mlflow.set_tags / nbtrack.tag_run)",
    "delete_experiment": "delete its runs with nbtrack.delete_run(run_id) (then `nbtrack gc`)",
    "log_model": "log the model as an artifact: nbtrack.log_artifact(model, name='model.skops')",
    "load_model": "mlflow.<flavor>.load_model(uri) or nbtrack.load_model('models:/NAME@ALIAS')",
    "evaluate": "compute the metrics yourself and log them with mlflow.log_metrics",
    "log_trace": "nbtrack does not record traces",
    "start_span": "nbtrack does not record traces",
    "trace": "nbtrack does not record traces",
    "set_registry_uri": "nbtrack's model registry lives in the tracking store: mlflow.set_tracking_uri(uri)",
    "run": "MLflow Projects are not supported: run the code (or `nbtrack run notebook.ipynb`) directly",
    "projects": "MLflow Projects are not supported: run the code (or `nbtrack run notebook.ipynb`) directly",
    "set_system_metrics_sampling_interval": "nbtrack does not sample system metrics through nbtrack.mlflow",
    "enable_system_metrics_logging": "nbtrack does not sample system metrics through nbtrack.mlflow",
    "log_model_params": "log them as run params with mlflow.log_params",
    "create_external_model": "log the model as an artifact: nbtrack.log_artifact(model, name='model.skops')",
    "initialize_logged_model": "log the model as an artifact: nbtrack.log_artifact(model, name='model.skops')",
}

# MLflow's model flavors: model logging and loading go through artifacts in nbtrack
FLAVORS = ("sklearn", "pytorch", "tensorflow", "keras", "xgboost", "lightgbm", "catboost", "transformers",
           "pyfunc", "statsmodels", "spark", "onnx", "prophet", "h2o", "fastai", "lightning", "spacy",
           "openai", "langchain", "models", "artifacts", "genai", "gateway", "deployments", "pmdarima")
FLAVOR_HINTS: dict[str, str] = {
    "autolog": "nbtrack.autolog() covers scikit-learn, XGBoost, LightGBM, Lightning, Keras and transformers",
    "log_model": "nbtrack.log_artifact(model, name='model.skops') (scikit-learn) or name='model.pkl'",
    "save_model": "nbtrack.log_artifact(model, name='model.skops') (scikit-learn) or name='model.pkl'",
    "download_artifacts": "mlflow.MlflowClient().download_artifacts(run_id, path, dst_path)",
    "list_artifacts": "mlflow.MlflowClient().list_artifacts(run_id, path)",
    "load_dict": "json.loads(nbtrack.get_run(run_id).artifact(name).read_text())",
    "load_text": "nbtrack.get_run(run_id).artifact(name).read_text()",
}


def refuse(call: str, instead: str) -> NoReturn:
    raise NotImplementedError(f"{call} is not supported by nbtrack.mlflow; instead: {instead}")


def stub(call: str, instead: str) -> Callable[..., NoReturn]:
    def unsupported(*args: Any, **kwargs: Any) -> NoReturn:
        refuse(call, instead)

    unsupported.__name__ = call.rsplit(".", 1)[-1]
    unsupported.__qualname__ = call
    unsupported.__doc__ = f"Not supported by nbtrack.mlflow (raises NotImplementedError): {instead}"
    return unsupported


class FlavorModule(types.ModuleType):
    """``mlflow.<flavor>`` (e.g. ``mlflow.sklearn``): every function raises NotImplementedError."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        flavor = self.__name__.rsplit(".", 1)[-1]
        if name == "load_model":  # models:/ and runs:/ URIs through nbtrack.load_model (nbtrack.mlflow.registry)
            from .registry import load_model

            return load_model
        if name == "autolog":
            from .autologging import FLAVOR_FRAMEWORKS, flavor_autolog

            if flavor in FLAVOR_FRAMEWORKS:
                return lambda **arguments: flavor_autolog(flavor, arguments)
        call = f"mlflow.{flavor}.{name}"
        return stub(call, FLAVOR_HINTS.get(name, "log what you need with mlflow.log_artifact / nbtrack.log_artifact"))


def lookup(name: str) -> Any:
    """The stand-in for an unsupported top-level name, or AttributeError for an unknown one."""
    if name in CALLS:
        return stub(f"mlflow.{name}", CALLS[name])
    if name in FLAVORS:
        return FlavorModule(f"nbtrack.mlflow.{name}")
    raise AttributeError(f"module 'nbtrack.mlflow' has no attribute {name!r}: nbtrack.mlflow covers MLflow's "
                         "tracking API (see docs/mlflow.md for the list)")
