"""scikit-learn: every estimator's ``fit``, ``fit_transform`` and ``fit_predict``.

Logged for the outermost fit (a Pipeline's steps and a search's candidates are inside it):

- params: ``get_params(deep=True)``, nested estimators' params under their prefixes
  (``clf__C``), estimator values as their short repr; tags ``estimator_name`` and
  ``estimator_class``;
- training metrics on the data it was fitted on (see ``sklearn_metrics``), for classifiers and
  regressors (``log_training_metrics=False`` turns them off);
- searches: ``best_<param>``, ``best_cv_score``, ``cv_results.csv`` and the best candidates as
  child runs (see ``sklearn_search``);
- the training data's fingerprint (dataset ``training``) and the model, ``models/<Class>.skops``
  (or ``.pkl`` when skops cannot store it).

``cross_validate``/``cross_val_score``, ``learning_curve``, ``validation_curve``,
``cross_val_predict`` and ``permutation_test_score`` are one training call each
(``sklearn_validation``), so their fits make no run of their own.

Which classes: every ``BaseEstimator`` subclass with its own ``fit``; the classes that exist
when autolog is installed are patched then, later ones (sklearn modules imported later, your
own estimators) when they are created, through ``BaseEstimator.__init_subclass__``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

from .. import patching, registry
from ..models import log_estimator
from ..params import flatten
from ..session import Plan, Session, traced
from .sklearn_metrics import training_metrics
from .sklearn_search import is_search, log_search

FRAMEWORK = "sklearn"
METHODS = ("fit", "fit_transform", "fit_predict")


class FitPlan(Plan):
    framework = FRAMEWORK
    joins_other_frameworks = False  # a helper fit inside a Keras or Lightning training is not a model

    def __init__(self, method: str) -> None:
        self.method = method

    def describe(self, args: tuple, kwargs: dict) -> dict:
        estimator = args[0]
        cls = type(estimator)
        return {"params": estimator_params(estimator), "name": cls.__name__,
                "tags": {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"}}

    def after(self, session: Session, args: tuple, kwargs: dict, result: Any) -> None:
        estimator = args[0]
        X = args[1] if len(args) > 1 else kwargs.get("X")
        y = args[2] if len(args) > 2 else kwargs.get("y")
        settings = session.settings
        session.log_dataset(X, "training")
        if y is not None and settings.option("log_training_metrics", True):
            sample_weight = kwargs.get("sample_weight")
            session.step("computing training metrics", lambda: session.log_metrics(
                training_metrics(estimator, X, y, sample_weight)))
        if is_search(estimator):
            log_search(session, estimator, settings.option("max_tuning_runs", 5))
        if session.log_models:
            log_estimator(session, estimator)


PLANS = {method: FitPlan(method) for method in METHODS}


def estimator_params(estimator: Any) -> dict[str, Any]:
    """``get_params(deep=True)`` as storable values (shallow when deep fails, {} when both do)."""
    for deep in (True, False):
        try:
            return flatten(estimator.get_params(deep=deep), separator="__")
        except Exception:  # a custom estimator whose __init__ does not follow sklearn's rules
            continue
    return {}


def _wrapper(method: str) -> Callable[[Callable], Callable]:
    plan = PLANS[method]

    def make(original: Callable) -> Callable:
        def autologged(self: Any, *args: Any, **kwargs: Any) -> Any:
            return traced(plan, original, (self, *args), kwargs)
        return patching.wrap(original, autologged)
    return make


def patch_class(cls: type) -> None:
    """Patch the fit methods ``cls`` defines itself (inherited ones are patched on their class)."""
    for method in METHODS:
        if callable(cls.__dict__.get(method)):
            patching.patch(FRAMEWORK, cls, method, _wrapper(method))


def _subclasses(root: type) -> list[type]:
    found, stack, seen = [], [root], set()
    while stack:
        cls = stack.pop()
        for sub in type.__subclasses__(cls):
            if sub not in seen:
                seen.add(sub)
                found.append(sub)
                stack.append(sub)
    return found


def install(module: ModuleType) -> None:
    """``sklearn.base``: patch every estimator class there is now, and every one created from now
    on. ``sklearn.model_selection``: the helpers of ``sklearn_validation``."""
    if module.__name__ == "sklearn.model_selection":
        from .sklearn_validation import install as install_helpers

        install_helpers(module)
        return
    base = module.BaseEstimator
    if any(owner is base and name == "__init_subclass__" for owner, name in patching.patched(FRAMEWORK)):
        return
    for cls in _subclasses(base):
        patch_class(cls)
    _hook_new_classes(base)


def _hook_new_classes(base: type) -> None:
    own = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        if own is not None:
            own.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)
        if registry.enabled(FRAMEWORK):
            try:
                patch_class(cls)
            except Exception:  # a class autolog cannot patch is left as it is
                pass

    patching.set_attribute(FRAMEWORK, base, "__init_subclass__", classmethod(__init_subclass__))
