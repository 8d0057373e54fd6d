"""Exceptions raised by nbtrack. Each carries its fields and says what to do next."""

from __future__ import annotations


class NbtrackError(Exception):
    """Base class of every error nbtrack raises on purpose."""


class ParamConflictError(NbtrackError, ValueError):
    """A param was logged again with a different value."""

    def __init__(self, key: str, old: object, new: object) -> None:
        self.key, self.old, self.new = key, old, new
        super().__init__(
            f"param {key!r} is already {old!r} in this run and cannot become {new!r}; "
            "params are fixed once logged: log the new value under another key or start a new run"
        )


class ParamTypeError(NbtrackError, TypeError):
    """A param value is not one of the supported types."""

    def __init__(self, key: str, value: object) -> None:
        self.key, self.value = key, value
        super().__init__(
            f"param {key!r} has type {type(value).__name__}; params are int, float, bool, str, "
            "None, or lists and dicts of those: convert it (e.g. str(value)) before logging"
        )


class MetricTypeError(NbtrackError, TypeError):
    """A metric value is not a real number."""

    def __init__(self, key: str, value: object) -> None:
        self.key, self.value = key, value
        super().__init__(
            f"metric {key!r} must be a real number (int, float, bool or a numpy scalar), "
            f"not {type(value).__name__}: log float(value) or use log_param for other values"
        )


class MetricValueError(NbtrackError, ValueError):
    """A metric value is a number no store can hold (an integer beyond the float range)."""

    def __init__(self, key: str, value: object) -> None:
        self.key, self.value = key, value
        digits = len(str(value)) if isinstance(value, int) and value.bit_length() < 10_000 else "many"
        super().__init__(f"metric {key!r} is an integer too large for a float ({digits} digits); "
                         "metrics are stored as 64-bit floats: log a smaller or scaled value (e.g. its log10)")


class ParamValueError(NbtrackError, ValueError):
    """A param value has a supported type but cannot be stored (too deep, too long)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"param {key!r} cannot be stored: {reason}")


class MissingDependencyError(NbtrackError, ImportError):
    """An optional dependency is needed: the message names it and the extra that installs it."""

    def __init__(self, package: str, extra: str, needed_for: str = "this", detail: str | None = None) -> None:
        self.package, self.extra = package, extra
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"{needed_for} needs {package}: pip install 'nbtrack[{extra}]'{suffix}")


class KeyNameError(NbtrackError, ValueError):
    """A param, metric or tag key is empty or not a string."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind} key must be a non-empty string of at most 250 characters without NUL "
                         f"or lone surrogates (such as os.fsdecode's '\\udcff'), got {key!r}")


class FilterSyntaxError(NbtrackError, ValueError):
    """A filter or order-by string could not be parsed."""

    def __init__(self, message: str, text: str, position: int) -> None:
        self.message, self.text, self.position = message, text, position
        caret = " " * position + "^"
        super().__init__(f"{message} at position {position}:\n  {text}\n  {caret}")


class RunNotFoundError(NbtrackError, LookupError):
    """No run matches the given id or prefix."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"no run with id or prefix {run_id!r}: list runs with `nbtrack ls`")


class AmbiguousRunIdError(NbtrackError, LookupError):
    """A run id prefix matches several runs."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        self.prefix, self.matches = prefix, matches
        shown = ", ".join(matches[:5])
        super().__init__(f"run id prefix {prefix!r} matches {len(matches)} runs ({shown}); give more characters")


class ExperimentNotFoundError(NbtrackError, LookupError):
    """No experiment has the given name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no experiment named {name!r}: list them with nbtrack.experiments()")


class NoActiveRunError(NbtrackError, RuntimeError):
    """A module-level logging call was made with no active run."""

    def __init__(self, call: str) -> None:
        super().__init__(
            f"nbtrack.{call}() needs an active run: wrap the code in `with nbtrack.track(...):`, "
            "use %%track on the cell, or call nbtrack.track(...) first"
        )


class ActiveRunError(NbtrackError, RuntimeError):
    """A run was started while another is active, without nested=True."""

    def __init__(self, active_run_id: str) -> None:
        self.active_run_id = active_run_id
        super().__init__(
            f"run {active_run_id[:8]} is still active: end it first (run.end()), "
            "or pass nested=True to start a child run"
        )


class RunEndedError(NbtrackError, RuntimeError):
    """Logging to a run that has already ended."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id[:8]} has ended ({status}); start a new run to log more")


class ForkedRunError(NbtrackError, RuntimeError):
    """Logging, in a forked child process, to a run its parent started (it would be lost)."""

    def __init__(self, run_id: str, pid: int) -> None:
        super().__init__(
            f"run {run_id[:8]} belongs to process {pid}: this forked process cannot log to it (what it "
            "logged would never be written). Return the values to the parent and log them there, or start "
            "a run in this process with nbtrack.track(...)")


class ArtifactNameError(NbtrackError, ValueError):
    """An artifact name would escape its run's namespace or is otherwise invalid."""

    def __init__(self, name: object, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"invalid artifact name {name!r}: {reason}; use a relative path such as 'plots/loss.png'")


class ArtifactNotFoundError(NbtrackError, LookupError):
    """The run has no artifact of that name."""

    def __init__(self, run_id: str, name: str, available: list[str]) -> None:
        self.run_id, self.name = run_id, name
        shown = ", ".join(available[:10]) or "none"
        super().__init__(f"run {run_id[:8]} has no artifact {name!r} (it has: {shown})")


class ArtifactWriteError(NbtrackError, OSError):
    """The artifact store could not save a blob (disk full, read-only, permission denied).

    ``Run.log_artifact`` catches it: it warns once, records the artifact as failed in the
    run's ``artifact_errors`` document, and the user's code goes on.
    """

    def __init__(self, root: str, error: OSError) -> None:
        self.root, self.error = root, error
        super().__init__(error.errno, f"cannot save an artifact under {root}: {error.strerror or error}")


class StoreVersionError(NbtrackError):
    """The store was written by a newer, unknown schema version."""


class StoreUnavailableError(NbtrackError):
    """The store cannot be reached or opened."""


class QueryTimeoutError(NbtrackError, TimeoutError):
    """A read took longer than the query timeout and was stopped by the database."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the query took longer than {seconds:g} s and was stopped: narrow the filter "
                         "(fewer comparisons, an experiment), or raise NBTRACK_QUERY_TIMEOUT (seconds, 0 = no limit)")


# -- model registry and stored datasets (nbtrack/registry, nbtrack/dataset_store.py) ---------------

class ModelNotFoundError(NbtrackError, LookupError):
    """No registered model, version or alias matches."""

    def __init__(self, what: str, hint: str = "list them with nbtrack.models() or `nbtrack models ls`") -> None:
        self.what = what
        super().__init__(f"{what}: {hint}")


class UntrustedModelError(NbtrackError, TypeError):
    """Loading the model would run or build code nbtrack cannot vouch for; the caller must say it trusts it.

    ``kind`` is ``"skops"`` or ``"pickle"``; ``types`` names what the file would import or build.
    """

    def __init__(self, message: str, kind: str, types: list[str]) -> None:
        self.kind, self.types = kind, list(types)
        super().__init__(message)


class DatasetNotFoundError(NbtrackError, LookupError):
    """The run logged no dataset of that name."""

    def __init__(self, run_id: str, name: str, available: list[str]) -> None:
        self.run_id, self.name = run_id, name
        shown = ", ".join(available[:10]) or "none"
        super().__init__(f"run {run_id[:8]} logged no dataset {name!r} (it has: {shown})")


class DatasetNotStoredError(NbtrackError, LookupError):
    """The dataset was fingerprinted but its content was not copied (too large, or store=False)."""

    def __init__(self, run_id: str, name: str, reason: str) -> None:
        self.run_id, self.name, self.reason = run_id, name, reason
        super().__init__(f"dataset {name!r} of run {run_id[:8]} has no stored copy: {reason}")


class StoreReadOnlyError(StoreUnavailableError):
    """The store refused a write because this client may only read it (a read-only PostgreSQL role,
    a SQLite file this user cannot write). A tracked run keeps its data (a transient error: it is
    written once the store accepts it); an edit (rename, tag, note, delete) fails with this error."""
