"""Which run an autologged training call logs into, and the rules for nested calls.

The rules (docs/autolog.md, "Which run"):

- Outside any run, the call starts its own run (named after the model, tag
  ``nbtrack.autolog=<framework>`` plus ``extra_tags``) and ends it when the call returns:
  FINISHED, FAILED with the traceback when the call raised, KILLED on an interrupt.
- Inside a run (``%%track``, ``with nbtrack.track()``), it logs into that run; when its params
  would change params the run already has (a second model fitted in the same cell), it logs
  into a child run of that run instead, so nothing is lost or overwritten.
- With ``exclusive=True`` nothing is logged into a run the user started (as MLflow).
- Only the outermost call logs: a fit inside a fit (a Pipeline's steps, a search's candidates,
  ``super().fit``) runs untouched. A different framework's training directly inside it (an
  XGBoost booster inside its scikit-learn wrapper) joins the outer call's run: its
  per-iteration metrics and any params that are still free land there; one inside a nested
  call (the boosters of a search's candidate XGBClassifiers) runs untouched.

There is one session at a time in the process (as MLflow's), so fits in joblib's threads
inside a search are seen as nested too.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

from . import registry, report
from .params import clashes

_lock = threading.Lock()
_current: "Session | None" = None


def current() -> "Session | None":
    """The session of the training call in progress, or None."""
    return _current


class Session:
    """One autologged training call: the run it logs into and whether autolog ends that run."""

    def __init__(self, framework: str, run: Any, owned: bool, outer: "Session | None" = None) -> None:
        self.framework = framework
        self.run = run
        self.owned = owned
        self.outer = outer
        self.depth = 0  # nested calls of this framework in progress (a search's candidate fits)
        self._depth_lock = threading.Lock()

    def nested(self, original: Callable, args: tuple, kwargs: dict) -> Any:
        """Run a call nested in this one untouched, counting it (see :func:`traced`)."""
        with self._depth_lock:
            self.depth += 1
        try:
            return original(*args, **kwargs)
        finally:
            with self._depth_lock:
                self.depth -= 1

    @property
    def settings(self) -> registry.Settings:
        return registry.settings(self.framework)

    @property
    def log_models(self) -> bool:
        return self.settings.models(self.framework)

    # --- logging: each call is guarded, a failure is reported once and training goes on ------

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log the params the run does not have yet; values that would change one are skipped."""
        with report.guarded(self.framework, "logging params"):
            existing = self.run.params
            clashing = clashes(existing, params)
            if clashing and self.outer is None:  # joined: the outer framework's values win, quietly
                report.notice(self.framework, f"params {', '.join(clashing[:5])} already have other values in run "
                              f"{self.run.name}; the run keeps its values")
            fresh = {k: v for k, v in params.items() if k not in existing}
            try:
                self.run.log_params(fresh)
            except Exception:  # one bad key or value: log the others
                for key, value in fresh.items():
                    with report.guarded(self.framework, f"logging param {key!r}"):
                        self.run.log_param(key, value)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if not metrics:
            return
        with report.guarded(self.framework, "logging metrics"):
            self.run.log_metrics(dict(metrics), step=step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if tags:
            with report.guarded(self.framework, "setting tags"):
                self.run.set_tags(dict(tags))

    def log_artifact(self, obj: Any, name: str, what: str = "logging an artifact") -> str | None:
        with report.guarded(self.framework, what):
            return self.run.log_artifact(obj, name=name)
        return None

    def log_dataset(self, data: Any, name: str) -> None:
        if data is None or not self.settings.log_datasets:
            return
        with report.guarded(self.framework, "fingerprinting the training data"):
            self.run.log_dataset(data, name)

    def step(self, what: str, action: Callable[[], Any]) -> Any:
        """Run one optional step of autolog's own (guarded)."""
        with report.guarded(self.framework, what), report.quiet_warnings():
            return action()
        return None

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self, error: BaseException | None = None) -> None:
        """End the call: end the run autolog started (FINISHED, FAILED or KILLED). Never raises."""
        global _current
        with _lock:
            if _current is self:
                _current = None
        if not self.owned:
            return
        try:
            if error is None:
                self.run.end()
            elif isinstance(error, KeyboardInterrupt):
                self.run.kill()
            else:
                self.run.fail(error)
        except Exception as problem:
            report.problem(self.framework, "ending the run", problem)

    def joined(self, framework: str) -> "Session":
        """A view of this session for another framework's training inside it (never ends the run)."""
        return Session(framework, self.run, owned=False, outer=self)


def open_session(framework: str, params: Mapping[str, Any] | None = None, name: str | None = None,
                 tags: Mapping[str, Any] | None = None) -> Session | None:
    """Start the session of an outermost training call (see the module docstring for the rules).

    Returns None when autolog must not log this call (``exclusive`` and a user run is active).
    Raises what ``nbtrack.track`` raised (the caller guards it).
    """
    global _current
    import nbtrack

    settings = registry.settings(framework)
    params = dict(params or {})
    active = nbtrack.active_run()
    if active is not None and settings.exclusive:
        return None
    if active is None or clashes(active.params, params):
        own_tags = {**settings.extra_tags, "nbtrack.autolog": framework}
        run = nbtrack.track(name=name, tags=own_tags, nested=active is not None)
        if active is not None:
            report.notice(framework, f"{name or 'this model'} logged to a child run of {active.name}: its params "
                          "differ from params the run already has")
        session = Session(framework, run, owned=True)
    else:
        session = Session(framework, active, owned=False)
    with _lock:
        _current = session
    session.set_tags(tags or {})
    session.log_params(params)
    return session


def for_callback(framework: str, name: str | None = None) -> Session:
    """The session a callback the user passed by hand logs into: the autologged call's run when
    autolog is on, else the active run, else a run of its own that the callback ends when
    training ends (``Session.owned``). Raises what ``nbtrack.track`` raised."""
    import nbtrack

    outer = current()
    if outer is not None:
        return outer.joined(framework)
    active = nbtrack.active_run()
    if active is not None:
        return Session(framework, active, owned=False)
    tags = {**registry.settings(framework).extra_tags, "nbtrack.autolog": framework}
    return Session(framework, nbtrack.track(name=name, tags=tags), owned=True)


class Plan:
    """What an adapter does around one training call; every hook is guarded by :func:`traced`.

    ``describe`` gives the params, run name and tags known before training; ``before`` may
    return changed ``(args, kwargs)`` (to add a callback); ``after`` logs what training made.
    ``joins`` says whether a call inside another framework's session joins it (else it runs
    untouched).
    """

    framework = ""
    joins_other_frameworks = True

    def describe(self, args: tuple, kwargs: dict) -> dict:
        return {}

    def before(self, session: Session, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        return args, kwargs

    def after(self, session: Session, args: tuple, kwargs: dict, result: Any) -> None:
        return None


class SignaturePlan(Plan):
    """A plan for a function whose arguments it reads by name (``train(params, dtrain, ...)``)."""

    def __init__(self, original: Callable) -> None:
        import inspect

        self.signature = inspect.signature(original)

    def arguments(self, args: tuple, kwargs: dict, defaults: bool = True) -> dict[str, Any]:
        """The call's arguments by name (with the defaults it did not give, unless ``defaults=False``)."""
        bound = self.signature.bind(*args, **kwargs)
        if defaults:
            bound.apply_defaults()
        return dict(bound.arguments)


def traced(plan: Plan, original: Callable, args: tuple, kwargs: dict) -> Any:
    """Call ``original(*args, **kwargs)`` as one autologged training call.

    What the user's call raises propagates unchanged (after the run autolog started is ended
    as FAILED); what autolog's own steps raise is reported and never reaches the user.
    """
    framework = plan.framework
    outer = current()
    if not registry.enabled(framework):
        return original(*args, **kwargs)
    if outer is not None and outer.framework == framework:
        return outer.nested(original, args, kwargs)
    if outer is not None and (outer.depth > 0 or not plan.joins_other_frameworks):
        # only the outermost call's own training joins it: a booster inside XGBClassifier.fit,
        # not the boosters of a search's candidate XGBClassifiers
        return original(*args, **kwargs)
    session = None
    with report.guarded(framework, "starting the run"), report.quiet_warnings():
        if outer is not None:
            session = outer.joined(framework)
            session.log_params(plan.describe(args, kwargs).get("params", {}))
        else:
            session = open_session(framework, **plan.describe(args, kwargs))
    if session is None:
        return original(*args, **kwargs)
    call_args, call_kwargs = args, kwargs
    with report.guarded(framework, "preparing the training call"):
        call_args, call_kwargs = plan.before(session, args, kwargs)
    try:
        result = original(*call_args, **call_kwargs)
    except BaseException as error:
        session.close(error)
        raise
    with report.guarded(framework, "logging the results"), report.quiet_warnings():
        plan.after(session, call_args, call_kwargs, result)
    session.close()
    return result
