"""Keras 3: ``Model.fit`` gets :class:`NbtrackKerasCallback` (any backend; tests use torch).

Logged: params ``epochs``, ``batch_size`` (Keras' 32 when arrays are given without one),
``validation_split``, ``shuffle``, ``initial_epoch``, ``steps_per_epoch`` when given,
``optimizer_name`` and the optimizer's config as ``opt_<key>`` (``opt_learning_rate``, ...);
every epoch's logs (``loss``, ``accuracy``, ``val_loss``, ...) as metrics at step = epoch;
the model summary as ``model_summary.txt``; the model as ``models/<name>.keras``.

By hand, without autolog: ``model.fit(..., callbacks=[NbtrackKerasCallback()])`` logs the same
(except the ``fit`` arguments the callback cannot see: batch size, validation split, shuffle)
into the active run, or into a run of its own when none is active.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import keras

from .. import patching
from ..models import log_saved
from ..params import flatten, numbers, plain
from ..session import Session, SignaturePlan, for_callback, traced

FRAMEWORK = "keras"
DEFAULT_BATCH_SIZE = 32


def optimizer_params(model: Any) -> dict[str, Any]:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return {}
    params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
    config = optimizer.get_config()
    for key, value in flatten({k: v for k, v in config.items() if k != "name"}, separator="_").items():
        params[f"opt_{key}"] = value
    return params


def model_summary(model: Any) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
    return "\n".join(lines)


class NbtrackKerasCallback(keras.callbacks.Callback):
    """Logs a Keras ``fit`` to nbtrack (see the module docstring).

    ``log_models``: save the trained model as ``models/<name>.keras`` (None: autolog's setting,
    on by default). ``log_summary``: the model summary as ``model_summary.txt``.
    """

    def __init__(self, log_models: bool | None = None, log_summary: bool = True) -> None:
        super().__init__()
        self.log_models = log_models
        self.log_summary = log_summary
        self.session: Session | None = None
        self._own: Session | None = None

    def _session(self) -> Session:
        if self.session is None:
            self._own = self.session = for_callback(FRAMEWORK, getattr(self.model, "name", None))
        return self.session

    def on_train_begin(self, logs: dict | None = None) -> None:
        session = self._session()
        params = {"epochs": plain((self.params or {}).get("epochs"))}
        session.step("logging the optimizer", lambda: session.log_params({**params, **optimizer_params(self.model)}))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.session is not None and logs:
            self.session.log_metrics(numbers(logs), step=epoch)

    def on_train_end(self, logs: dict | None = None) -> None:
        session = self.session
        if session is None:
            return
        model = self.model
        if self.log_summary:
            session.step("logging the model summary",
                         lambda: session.log_artifact(model_summary(model), "model_summary.txt"))
        wanted = session.log_models if self.log_models is None else self.log_models
        if wanted:
            log_saved(session, model.save, f"{model.name}.keras")
        if self._own is not None:
            self._own.close()
        self.session = self._own = None


class FitPlan(SignaturePlan):
    framework = FRAMEWORK

    def describe(self, args: tuple, kwargs: dict) -> dict:
        arguments = self.arguments(args, kwargs)
        model = arguments["self"]
        params = {key: plain(arguments[key]) for key in ("epochs", "batch_size", "validation_split", "shuffle",
                                                         "initial_epoch", "steps_per_epoch")
                  if arguments.get(key) is not None}
        if params.get("batch_size") is None and hasattr(arguments.get("x"), "shape"):
            params["batch_size"] = DEFAULT_BATCH_SIZE
        params.update(optimizer_params(model))
        return {"params": params, "name": model.name, "tags": {"keras_model": type(model).__name__}}

    def before(self, session: Session, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        arguments = self.arguments(args, kwargs)
        callbacks = list(arguments.get("callbacks") or [])
        mine = [c for c in callbacks if isinstance(c, NbtrackKerasCallback)]
        if mine:
            for callback in mine:
                callback.session = session
        else:
            callback = NbtrackKerasCallback()
            callback.session = session
            callbacks.append(callback)
        arguments["callbacks"] = callbacks
        model = arguments.pop("self")
        return (model,), arguments


def install(module: ModuleType) -> None:
    def make(original: Callable) -> Callable:
        plan = FitPlan(original)

        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            return traced(plan, original, (self, *args), kwargs)
        return patching.wrap(original, fit)

    patching.patch(FRAMEWORK, keras.Model, "fit", make)
