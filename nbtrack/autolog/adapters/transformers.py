"""Hugging Face ``transformers.Trainer``: :class:`NbtrackTrainerCallback`; autolog adds it to every Trainer.

Logged: the ``TrainingArguments`` (``learning_rate``, ``num_train_epochs``,
``per_device_train_batch_size``, ... as the Trainer's ``to_dict`` gives them, tokens already
masked) and the model's config under ``model.`` (``model.hidden_size``, ...); every ``on_log``
entry (``loss``, ``learning_rate``, ``grad_norm``, ``epoch``, ``eval_loss``, your
``compute_metrics`` as ``eval_<name>``, ``train_runtime``, ...) at step = ``global_step``;
the trained model (``save_pretrained``) as ``models/<ModelClass>/`` with ``log_models=True``
(off by default: models weigh hundreds of MB).

``Trainer.train`` and ``Trainer.evaluate`` are each one training call (docs/autolog.md);
evaluation during training belongs to ``train``'s run. By hand, without autolog:
``Trainer(..., callbacks=[NbtrackTrainerCallback()])``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

from transformers import TrainerCallback

from .. import patching
from ..models import log_saved
from ..params import flatten, numbers
from ..session import Plan, Session, for_callback, traced

FRAMEWORK = "transformers"
CONFIG_PREFIX = "model."


def training_params(args: Any, model: Any = None) -> dict[str, Any]:
    params = flatten(args.to_dict()) if args is not None else {}
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        for key, value in flatten(config.to_dict()).items():
            params[CONFIG_PREFIX + key] = value
    return params


class NbtrackTrainerCallback(TrainerCallback):
    """Logs a ``transformers.Trainer`` to nbtrack (see the module docstring).

    ``log_models``: save the trained model with ``save_pretrained`` (None: autolog's setting,
    off by default).
    """

    def __init__(self, log_models: bool | None = None) -> None:
        self.log_models = log_models
        self.session: Session | None = None
        self.autolog_added = False
        self._own: Session | None = None
        self._training = False

    def _session(self, model: Any = None) -> Session | None:
        session = self.session
        if session is not None and session.run.status == "RUNNING":
            return session
        if self.autolog_added:
            return None
        self._own = self.session = for_callback(FRAMEWORK, type(model).__name__ if model is not None else None)
        return self.session

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._training = True
        session = self._session(model)
        if session is not None:
            session.step("logging the training arguments", lambda: session.log_params(training_params(args, model)))

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, model: Any = None,
               **kwargs: Any) -> None:
        session = self._session(model)
        if session is not None and logs:
            session.log_metrics(numbers(logs), step=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._training = False
        session = self.session
        if session is None:
            return
        wanted = session.log_models if self.log_models is None else self.log_models
        if wanted and model is not None and hasattr(model, "save_pretrained"):
            log_saved(session, model.save_pretrained, type(model).__name__)
        self._end_own()

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self._training:
            self._end_own()  # a standalone evaluate() outside any run: its own run ends here

    def _end_own(self) -> None:
        own, self._own = self._own, None
        if own is not None:
            self.session = None
            own.close()


class TrainerPlan(Plan):
    framework = FRAMEWORK

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def describe(self, args: tuple, kwargs: dict) -> dict:
        trainer = args[0]
        model = getattr(trainer, "model", None)
        name = type(model).__name__ if model is not None else "transformers"
        return {"params": training_params(trainer.args, model),
                "name": name if self.stage == "train" else f"{name} {self.stage}",
                "tags": {"transformers_stage": self.stage}}

    def before(self, session: Session, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        trainer = args[0]
        mine = [c for c in trainer.callback_handler.callbacks if isinstance(c, NbtrackTrainerCallback)]
        if not mine:
            callback = NbtrackTrainerCallback()
            callback.autolog_added = True
            trainer.add_callback(callback)
            mine = [callback]
        for callback in mine:
            callback.session = session
        return args, kwargs


def install(module: ModuleType) -> None:
    trainer = module.Trainer
    for stage in ("train", "evaluate"):
        plan = TrainerPlan(stage)

        def make(original: Callable, plan: TrainerPlan = plan) -> Callable:
            def call(self: Any, *args: Any, **kwargs: Any) -> Any:
                return traced(plan, original, (self, *args), kwargs)
            return patching.wrap(original, call)

        patching.patch(FRAMEWORK, trainer, stage, make)
