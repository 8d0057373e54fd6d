"""Optuna studies as nbtrack runs: one run for the study, each trial a nested run of it.

```python
import optuna
from nbtrack.integrations.optuna import NbtrackCallback, optimize

study = optuna.create_study(direction="maximize")
optimize(study, objective, n_trials=50, experiment="tuning")      # the study's run + a run per trial

# or, by hand (inside a %%track cell the cell's run is the study's run):
callback = NbtrackCallback(metric_name="accuracy")
study.optimize(callback.track_in_nbtrack(objective), n_trials=50, callbacks=[callback])
callback.end()  # ends the study run the callback started (not needed in a %%track cell)
```

A trial's run has the trial's params, its value as the metric ``metric_name`` (several
objectives: one metric per name, or ``value_0``, ``value_1``, ...), its intermediate values
(``trial.report``) as the history of ``<metric_name>/intermediate``, and tags
``optuna.trial_number`` and ``optuna.state``. COMPLETE and PRUNED trials end FINISHED, FAIL
trials FAILED. The study's run gets ``optuna.study_name`` and ``optuna.direction`` tags, the
best value so far as ``best_<metric_name>`` (one point per trial) and the best trial's run as the
``nbtrack.best_run`` tag.

With the callback alone, a trial's run is made when the trial has finished (thread-safe, so
``n_jobs > 1`` works). With :meth:`NbtrackCallback.track_in_nbtrack`, the trial's run is the
active run while the objective runs, so what the objective logs (``nbtrack.log_metric``,
autolog) lands in it; that needs trials one at a time (``n_jobs=1``).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Sequence

from ..errors import MissingDependencyError

_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise MissingDependencyError("optuna", "optuna", "nbtrack.integrations.optuna") from None
    return optuna


class NbtrackCallback:
    """A ``study.optimize`` callback: each finished trial becomes a nested run of the study's run.

    ``parent``: the study's run (a :class:`nbtrack.Run`); default: the active run when the first
    trial ends (a ``%%track`` cell's run), else a run the callback starts (ended by :meth:`end`,
    or at exit). ``experiment``: where a run the callback starts goes."""

    def __init__(self, metric_name: str | Sequence[str] = "value", *, parent: Any = None,
                 experiment: str | None = None) -> None:
        _optuna()
        self.metric_names = [metric_name] if isinstance(metric_name, str) else list(metric_name)
        self.experiment = experiment
        self.parent = parent
        self._owns_parent = False
        self._tagged = False
        self._lock = threading.Lock()
        self._open: dict[int, Any] = {}  # trial number -> the run track_in_nbtrack opened
        self._running = 0
        self._best: tuple[float, str] | None = None

    # --- the study's run ----------------------------------------------------------------

    def study_run(self, study: Any) -> Any:
        """The study's run (made on first use)."""
        import nbtrack
        from nbtrack.run import Run

        with self._lock:
            if self._tagged:
                return self.parent
            if self.parent is None:
                active = nbtrack.active_run()
                if active is not None:
                    self.parent = active
                else:
                    self.parent = Run(experiment=self.experiment, name=f"optuna {study.study_name}", activate=False)
                    self._owns_parent = True
            directions = [d.name.lower() for d in study.directions]
            self.parent.set_tags({"optuna.study_name": study.study_name, "optuna.direction": ",".join(directions)})
            self._tagged = True
            return self.parent

    def end(self) -> None:
        """End the study run the callback started (a run it was given is left to its owner)."""
        if self._owns_parent and self.parent is not None:
            self.parent.end()

    # --- trials ---------------------------------------------------------------------------

    def _names(self, count: int) -> list[str]:
        if len(self.metric_names) == count:
            return self.metric_names
        return [f"{self.metric_names[0]}_{i}" for i in range(count)] if count > 1 else self.metric_names[:1]

    def _new_trial_run(self, study: Any, number: int, activate: bool) -> Any:
        from nbtrack.run import Run

        parent = self.study_run(study)
        return Run(experiment=parent.experiment, name=f"trial {number}", nested=True, parent_run_id=parent.run_id,
                   tags={"optuna.trial_number": number, "optuna.study_name": study.study_name},
                   system_metrics=False, activate=activate)

    def __call__(self, study: Any, trial: Any) -> None:
        """Record the finished ``trial`` (a FrozenTrial) as a nested run of the study's run."""
        with self._lock:
            run = self._open.pop(trial.number, None)
        if run is None:
            run = self._new_trial_run(study, trial.number, activate=False)
        state = trial.state.name
        if run.status != "RUNNING":  # track_in_nbtrack ended it already (the objective raised)
            import nbtrack

            nbtrack.tag_run(run.run_id, {"optuna.state": state})
            return
        run.log_params(dict(trial.params))
        run.set_tags({"optuna.state": state, **{f"optuna.user.{k}": str(v) for k, v in trial.user_attrs.items()}})
        values = trial.values or []
        names = self._names(len(values))
        for step, value in sorted(trial.intermediate_values.items()):
            run.log_metric(f"{names[0]}/intermediate", value, step=step)
        if values:
            run.log_metrics(dict(zip(names, values)))
        run.end(_STATUS.get(state, "KILLED"))
        if state == "COMPLETE" and len(values) == 1:
            self._record_best(study, trial, run, names[0], values[0])

    def _record_best(self, study: Any, trial: Any, run: Any, name: str, value: float) -> None:
        maximize = study.direction.name == "MAXIMIZE"
        with self._lock:
            if self._best is None or (value > self._best[0] if maximize else value < self._best[0]):
                self._best = (value, run.run_id)
            best = self._best
        parent = self.study_run(study)
        parent.log_metric(f"best_{name}", best[0], step=trial.number)
        parent.set_tags({"nbtrack.best_run": best[1]})

    def track_in_nbtrack(self, objective: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``objective`` with each trial's run active while it runs (trials one at a time)."""
        optuna = _optuna()

        @functools.wraps(objective)
        def tracked(trial: Any) -> Any:
            with self._lock:
                if self._running:
                    raise RuntimeError("NbtrackCallback.track_in_nbtrack runs one trial at a time: with n_jobs > 1 "
                                       "pass the callback alone (callbacks=[callback]), without track_in_nbtrack")
                self._running += 1
                stale = list(self._open.values())
                self._open.clear()
            try:
                for left in stale:  # the callback was not in callbacks=[...]: end what it would have
                    left.end()
                run = self._new_trial_run(trial.study, trial.number, activate=True)
                with self._lock:
                    self._open[trial.number] = run
                try:
                    return objective(trial)
                except optuna.TrialPruned:
                    raise  # the callback ends it (PRUNED)
                except BaseException as error:  # stays in _open: the callback, if it is called, only tags it
                    run.log_params(dict(trial.params))
                    run.fail(error)  # not every failure reaches a callback (an exception optimize does not catch)
                    raise
            finally:
                with self._lock:
                    self._running -= 1

        return tracked


def optimize(study: Any, objective: Callable[[Any], Any], n_trials: int | None = None, *,
             experiment: str | None = None, metric_name: str | Sequence[str] = "value",
             track_trials: bool = True, **kwargs: Any) -> Any:
    """``study.optimize(objective, n_trials, **kwargs)`` with the study as a run and each trial a
    nested run of it. The study's run is the active run (a ``%%track`` cell's) if there is one,
    else a new run in ``experiment``, ended when the optimisation ends (FAILED if it raised).
    ``track_trials``: the objective runs inside its trial's run (when ``n_jobs`` is 1). Returns
    the study's run."""
    import nbtrack

    active = nbtrack.active_run()
    own = None
    if active is None:
        own = nbtrack.track(experiment=experiment, name=f"optuna {study.study_name}")
    callback = NbtrackCallback(metric_name, parent=active or own)
    callback.study_run(study)
    wrapped = callback.track_in_nbtrack(objective) if track_trials and kwargs.get("n_jobs", 1) == 1 else objective
    callbacks = [*(kwargs.pop("callbacks", None) or []), callback]
    try:
        study.optimize(wrapped, n_trials=n_trials, callbacks=callbacks, **kwargs)
    except BaseException as error:
        if own is not None:
            own.fail(error)
        raise
    if own is not None:
        own.end()
    return active or own
