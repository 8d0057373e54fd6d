"""PyTorch Lightning: :class:`NbtrackLogger`, a Lightning ``Logger``; autolog adds it to every Trainer.

Logged: the module's (and datamodule's) hyperparameters from ``save_hyperparameters()``
(nested dicts flattened with ``/``, as Lightning's loggers do); the Trainer's ``max_epochs``,
``max_steps``, ``accumulate_grad_batches``, ``gradient_clip_val``, ``precision``; the
optimizers (``optimizer_name``, ``opt_lr``, ``opt_weight_decay``, ... of the first one); every
``self.log(...)`` value at step = ``trainer.global_step``; the model summary as
``model_summary.txt``; the checkpoints (tags ``checkpoint.best_model_path`` and
``checkpoint.last_model_path``, metric ``checkpoint.best_model_score``; the best checkpoint
file itself as ``models/<file>.ckpt`` with ``log_models=True``).

``Trainer.fit``, ``validate`` and ``test`` are each one training call (docs/autolog.md): outside
any run each has its own run; to keep fit and test together, run both in one ``%%track`` cell
or ``with nbtrack.track():``. By hand, without autolog: ``Trainer(logger=NbtrackLogger())``.
Both the ``lightning`` and the ``pytorch_lightning`` packages are supported.
"""

from __future__ import annotations

import importlib
import os
import sys
from argparse import Namespace
from types import ModuleType
from typing import Any, Callable

from .. import patching
from ..models import MODELS
from ..params import flatten, numbers, plain
from ..session import Plan, Session, for_callback, traced

FRAMEWORK = "lightning"
TRAINER_SETTINGS = ("max_epochs", "max_steps", "accumulate_grad_batches", "gradient_clip_val", "precision")


def hyperparameters(params: Any) -> dict[str, Any]:
    if isinstance(params, Namespace):
        params = vars(params)
    return flatten(dict(params or {}), separator="/")


def module_hyperparameters(model: Any, trainer: Any = None) -> dict[str, Any]:
    params = hyperparameters(getattr(model, "hparams_initial", None))
    datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
    if datamodule is not None:
        params.update(hyperparameters(getattr(datamodule, "hparams_initial", None)))
    return params


def optimizer_params(trainer: Any) -> dict[str, Any]:
    optimizers = list(getattr(trainer, "optimizers", None) or [])
    if not optimizers:
        return {}
    optimizer = optimizers[0]
    params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
    group = optimizer.param_groups[0] if optimizer.param_groups else {}
    for key, value in group.items():
        if key != "params":
            params[f"opt_{key}"] = plain(value)
    return params


def _make_logger_class(pl: ModuleType) -> type:
    base = pl.loggers.Logger

    class NbtrackLogger(base):  # type: ignore[misc, valid-type]
        """A Lightning logger writing to nbtrack: ``Trainer(logger=NbtrackLogger())``.

        It logs into the autologged call's run, else the active run (a ``%%track`` cell,
        ``with nbtrack.track()``), else a run of its own, ended when the Trainer's stage ends.
        ``log_models``: log the best checkpoint file (None: autolog's setting, off by default).
        ``log_summary``: the model summary as ``model_summary.txt`` (``summary_depth`` levels).
        """

        def __init__(self, run_name: str | None = None, log_models: bool | None = None, log_summary: bool = True,
                     summary_depth: int = 1) -> None:
            super().__init__()
            self.run_name = run_name
            self.log_models = log_models
            self.log_summary = log_summary
            self.summary_depth = summary_depth
            self.session: Session | None = None
            self.autolog_added = False
            self._own: Session | None = None
            self._checkpoint: Any = None
            self._last_run: Any = None

        # the run ----------------------------------------------------------------------------

        def _session(self) -> Session | None:
            session = self.session
            if session is not None and session.run.status == "RUNNING":
                return session
            if self.autolog_added:  # autolog's logger logs only inside an autologged call
                return None
            self._own = self.session = for_callback(FRAMEWORK, self.run_name)
            self._last_run = self.session.run
            return self.session

        @property
        def experiment(self) -> Any:
            """The nbtrack Run this logger writes to (after training: the one it wrote to)."""
            session = self.session
            if session is not None and session.run.status == "RUNNING":
                return session.run
            if self._last_run is not None or self.autolog_added:
                return self._last_run
            session = self._session()
            return session.run if session is not None else None

        @property
        def name(self) -> str | None:
            run = self.experiment
            return run.experiment if run is not None else None

        @property
        def version(self) -> str | None:
            run = self.experiment
            return run.run_id if run is not None else None

        # what Lightning hands over ------------------------------------------------------------

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            session = self._session()
            if session is not None:
                session.step("logging hyperparameters", lambda: session.log_params(hyperparameters(params)))

        def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
            session = self._session()
            if session is not None:
                session.log_metrics(numbers(metrics), step=step)

        def log_graph(self, model: Any, input_array: Any = None) -> None:
            session = self._session()
            if session is None:
                return
            trainer = getattr(model, "_trainer", None)
            if trainer is not None:
                session.step("logging the optimizer", lambda: session.log_params(
                    {**trainer_params(trainer), **optimizer_params(trainer)}))
            if self.log_summary:
                session.step("logging the model summary", lambda: session.log_artifact(
                    str(pl.utilities.model_summary.ModelSummary(model, max_depth=self.summary_depth)),
                    "model_summary.txt"))

        def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
            session = self._session()
            if session is None:
                return
            self._checkpoint = checkpoint_callback
            session.step("logging the checkpoint", lambda: log_checkpoint(session, checkpoint_callback, False))

        def finalize(self, status: str) -> None:
            own, self._own = self._own, None
            if own is None or not own.owned:  # the active run is the user's to end
                self.session = None
                return
            if self._checkpoint is not None:
                wanted = own.log_models if self.log_models is None else self.log_models
                own.step("logging the checkpoint", lambda: log_checkpoint(own, self._checkpoint, wanted))
            self.session = None
            if status == "failed":
                own.step("ending the run", lambda: own.run.end("FAILED"))
            else:
                own.close()

    NbtrackLogger.__module__ = __name__
    return NbtrackLogger


def trainer_params(trainer: Any) -> dict[str, Any]:
    params = {}
    for name in TRAINER_SETTINGS:
        value = getattr(trainer, name, None)
        if value is None and name == "accumulate_grad_batches":
            value = getattr(getattr(trainer, "fit_loop", None), "_accumulate_grad_batches", None)
        if value is not None:
            params[name] = plain(value)
    return params


def log_checkpoint(session: Session, callback: Any, with_file: bool) -> None:
    tags = {}
    for name in ("best_model_path", "last_model_path"):
        path = getattr(callback, name, None)
        if path:
            tags[f"checkpoint.{name}"] = str(path)
    session.set_tags(tags)
    score = getattr(callback, "best_model_score", None)
    if score is not None:
        session.log_metrics(numbers({"checkpoint.best_model_score": score}))
    best = getattr(callback, "best_model_path", None)
    if with_file and best and os.path.isfile(best):
        session.log_artifact(best, f"{MODELS}/{os.path.basename(best)}", "logging the best checkpoint")


# --- autolog: Trainer.fit / validate / test --------------------------------------------------------

_classes: dict[str, type] = {}


def logger_class(pl: ModuleType) -> type:
    """The NbtrackLogger class of this Lightning package (``lightning.pytorch`` or ``pytorch_lightning``)."""
    if pl.__name__ not in _classes:
        _classes[pl.__name__] = _make_logger_class(pl)
    return _classes[pl.__name__]


class StagePlan(Plan):
    framework = FRAMEWORK

    def __init__(self, pl: ModuleType, stage: str) -> None:
        self.pl = pl
        self.stage = stage

    def describe(self, args: tuple, kwargs: dict) -> dict:
        trainer = args[0]
        model = args[1] if len(args) > 1 else kwargs.get("model")
        params = module_hyperparameters(model, trainer) if model is not None else {}
        if self.stage == "fit":
            params.update(trainer_params(trainer))
        name = type(model).__name__ if model is not None else "lightning"
        return {"params": params, "name": name if self.stage == "fit" else f"{name} {self.stage}",
                "tags": {"lightning_stage": self.stage}}

    def before(self, session: Session, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        trainer = args[0]
        cls = logger_class(self.pl)
        mine = [logger for logger in trainer.loggers if isinstance(logger, cls)]
        if not mine:
            logger = cls()
            logger.autolog_added = True
            trainer.loggers = [*trainer.loggers, logger]
            mine = [logger]
        for logger in mine:
            logger.session = session
            logger._last_run = session.run
        return args, kwargs

    def after(self, session: Session, args: tuple, kwargs: dict, result: Any) -> None:
        trainer = args[0]
        checkpoint = getattr(trainer, "checkpoint_callback", None)
        if self.stage == "fit" and checkpoint is not None:
            log_checkpoint(session, checkpoint, session.log_models)


def install(module: ModuleType) -> None:
    pl = importlib.import_module(module.__name__)
    trainer = pl.Trainer
    for stage in ("fit", "validate", "test"):
        plan = StagePlan(pl, stage)

        def make(original: Callable, plan: StagePlan = plan) -> Callable:
            def call(self: Any, *args: Any, **kwargs: Any) -> Any:
                return traced(plan, original, (self, *args), kwargs)
            return patching.wrap(original, call)

        patching.patch(FRAMEWORK, trainer, stage, make)


def _default_package() -> ModuleType:
    for name in ("lightning.pytorch", "pytorch_lightning"):
        if name in sys.modules:
            return sys.modules[name]
    try:
        return importlib.import_module("lightning.pytorch")
    except ImportError:
        return importlib.import_module("pytorch_lightning")


def __getattr__(name: str) -> Any:
    if name == "NbtrackLogger":
        return logger_class(_default_package())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
