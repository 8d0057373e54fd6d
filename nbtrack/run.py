"""Run: one tracked execution. Logging buffers in memory; the flusher writes it out."""

from __future__ import annotations

import collections
import functools
import os
import sys
import threading
import time
import traceback
import uuid
from typing import Any, Callable

from . import config
from . import secrets as _secrets
from .errors import ActiveRunError, ForkedRunError, ParamConflictError, RunEndedError
from .flusher import FLUSHER
from .guard import guarded
from .statuses import STATUSES
from .store import forkguard  # noqa: F401  - registered before this module's fork hook, so it runs after it
from .store.batch import Batch
from .sync import background as _background_sync
from .values import check_key, check_name, check_text, encode_param, metric_value, normalize_param, tag_value
from .who import current_host, current_user

_stack_lock = threading.Lock()
_active: list["Run"] = []
_uncaught_exception: list[BaseException] = []


_capturing: "set[threading.Thread]" = set()
_pid = os.getpid()  # this process's (set again in a forked child)


class _BackgroundWorker:
    """One thread per process runs the runs' background work (``Run.in_background``), in order:
    starting a thread per job costs a millisecond or more of the user's cell on a busy machine."""

    def __init__(self) -> None:
        self._jobs: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self.current = threading.local()  # .run: the run whose job is running (it may write after its end)

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._jobs.append(job)
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="nbtrack-background", daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            while True:
                with self._lock:
                    if not self._jobs:
                        self._wake.clear()
                        self._idle.set()
                        break
                    job = self._jobs.popleft()
                job()

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)


_WORKER = _BackgroundWorker()


def _before_fork() -> None:
    """Let environment captures and background work finish: a child forked while one is
    importing modules inherits that import's lock, held for ever, and its own capture hangs."""
    for thread in list(_capturing):
        thread.join(10.0)
    _WORKER.wait_idle(10.0)


def _after_fork_in_child() -> None:  # a lock held by another thread at fork time would never be released
    global _stack_lock, _WORKER, _pid
    _pid = os.getpid()
    _stack_lock = threading.Lock()
    _capturing.clear()
    _WORKER = _BackgroundWorker()  # the parent's worker thread does not exist here


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def active_run() -> "Run | None":
    """The innermost run that is still active in this process, or None.

    A forked child (multiprocessing) inherits its parent's runs but cannot write them:
    they are not active there, so the child gets NoActiveRunError or starts its own run
    instead of logging into a copy that is never written.
    """
    if _active and _active[-1].pid == os.getpid():
        return _active[-1]
    pid = os.getpid()
    for run in reversed(_active):
        if run.pid == pid:
            return run
    return None


class Run:
    """A run: params, metrics (with history), tags, artifacts, datasets, notes, documents.

    Use it as a context manager (``with nbtrack.track(...) as run:``), as a decorator
    (``@nbtrack.track(...)``: each call of the function is one run), or end it yourself
    with :meth:`end`.
    """

    def __init__(self, experiment: str | None = None, name: str | None = None,
                 tags: dict | None = None, params: dict | None = None, notes: str | None = None,
                 nested: bool = False, capture_environment: bool = True, system_metrics: Any = None, *,
                 resume: str | None = None, parent_run_id: str | None = None, activate: bool = True) -> None:
        """``resume``: continue the stored run with this id (its experiment, name, start and
        parent stay; it is RUNNING again). ``parent_run_id``: the parent, given explicitly.
        ``activate=False``: a run that is not pushed on the active-run stack (an MLflow
        client's ``create_run``); it is logged to through the Run object only.
        ``system_metrics``: see :func:`nbtrack.sysmetrics.interval_for`."""
        from . import sysmetrics

        system_interval = sysmetrics.interval_for(system_metrics)  # a bad option fails before the run starts
        parent = active_run() if activate else None
        if parent is not None and not nested:
            raise ActiveRunError(parent.run_id)
        if activate and resume is None and parent_run_id is None and os.environ.get("NBTRACK_LAUNCH"):
            from .sweep_launch import apply_launch_context  # a kernel started by `nbtrack sweep` / `rerun`

            experiment, tags, params, parent_run_id = apply_launch_context(experiment, tags, params, parent is None)
        resumed = None
        if resume is not None:  # reopened only once nothing else can refuse the run
            from .resume import reopen_stored_run

            resumed = reopen_stored_run(config.store_for(config.store_uri()), resume)
            experiment, name = resumed.experiment, resumed.name
        if experiment is not None and (not isinstance(experiment, str) or not experiment.strip()):
            raise ValueError(f"experiment must be a non-empty string, got {experiment!r}")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"run name must be a string, got {type(name).__name__}")
        if experiment is not None:
            check_name("experiment name", experiment.strip())
        if name is not None:
            check_name("run name", name)
        if parent_run_id is not None or resumed is not None:
            parent, nested = None, False
        self.run_id = resumed.run_id if resumed is not None else uuid.uuid4().hex
        inherited = parent.experiment if parent is not None and nested else None
        self.experiment = (experiment or inherited or config.default_experiment()).strip()
        self.name = name or _default_name(self.run_id)
        self.parent_run_id = parent.run_id if parent is not None and nested else parent_run_id
        self.start_time = time.time()
        if resumed is not None:
            self.parent_run_id, self.start_time = resumed.parent_run_id, resumed.start_time
        self.end_time: float | None = None
        self.status = "RUNNING"
        self.store_uri = config.store_uri()
        self.pid = os.getpid()
        self.user, self.host = current_user(), current_host()  # recorded with the run (runs.user_name/host_name)
        self._options = dict(experiment=experiment, name=name, tags=tags, params=params, notes=notes,
                             nested=nested, capture_environment=capture_environment, system_metrics=system_metrics)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._created = False
        self._params: dict[str, Any] = {}
        self._tags: dict[str, str] = {}
        self._latest: dict[str, tuple[int, float, float]] = {}
        self._next_step: dict[str, int] = {}
        self._known_metric_keys: set[str] = set()
        self._pending = Batch()
        self._pending_end: tuple | None = None
        self._touched = False
        self._background: list[threading.Event] = []  # work that still writes to the run (even ended)
        self._redactions: list[dict[str, Any]] = []
        self._artifact_names: list[str] = []
        self._media_steps: dict[str, int] = {}
        self._unsaved_artifacts: list[Any] = []  # nbtrack.artifacts.Unsaved
        if resumed is not None:  # what the stored run holds: params stay fixed, steps and latest values go on
            self._created = True
            self._params, self._tags = dict(resumed.params), dict(resumed.tags)
            self._latest, self._next_step = dict(resumed.latest), dict(resumed.next_step)
        if params:
            self.log_params(params)
        if tags:
            self.set_tags(tags)
        if notes:
            self.log_note(notes)
        if activate:
            with _stack_lock:
                _active.append(self)
        self._captures_environment = capture_environment
        try:
            if capture_environment:
                self._start_environment_capture()
                self._capture_source_context()
        finally:
            # Only now may the flusher write the run: a run used as a decorator is discarded right
            # after this, and one flushed while its source context was captured stayed in the store.
            FLUSHER.add(self)
            _background_sync.notice(self.store_uri)  # NBTRACK_SYNC_TO / set_sync: mirror the store
        if system_interval is not None:
            sysmetrics.SYSTEM_METRICS.watch(self, system_interval)
        self._touched = False

    def _capture_source_context(self) -> None:
        """Record where the run's code comes from through the hooks the layers registered
        (:mod:`nbtrack.source_context`; never raises)."""
        from . import source_context

        source_context.capture(self)

    # --- context manager and decorator -------------------------------------------

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):  # sys.exit(0) succeeded
            self.end()
        elif isinstance(exc, KeyboardInterrupt):
            self.kill()
        else:
            self.fail(exc)
        return False

    def __call__(self, function: Callable) -> Callable:
        """Decorator use: ``@nbtrack.track("exp")`` tracks each call of ``function`` as a run."""
        if not callable(function) or self._touched or self._created:
            raise TypeError("a Run is callable only as a decorator, right after nbtrack.track(...)")
        self._discard()
        options = dict(self._options)

        @functools.wraps(function)
        def tracked(*args: Any, **kwargs: Any) -> Any:
            with Run(**options):
                return function(*args, **kwargs)

        return tracked

    def _discard(self) -> None:
        """Forget a run that was never used (the decorator form), writing nothing."""
        with _stack_lock:
            if self in _active:
                _active.remove(self)
        self.status = "DISCARDED"
        FLUSHER.discard(self)

    # --- logging ----------------------------------------------------------------

    def _check_open(self) -> None:
        if self.pid != _pid:
            raise ForkedRunError(self.run_id, self.pid)
        if self.status != "RUNNING" and getattr(_WORKER.current, "run", None) is not self:
            raise RunEndedError(self.run_id, self.status)

    def log_param(self, key: str, value: Any) -> None:
        """Record a hyperparameter. Types are kept; a param cannot change once logged."""
        self.log_params({key: value})

    def log_params(self, params: dict[str, Any]) -> None:
        """Record several params at once (all or none are recorded)."""
        self._check_open()
        rows = []
        staged: dict[str, Any] = {}
        for key, value in dict(params).items():
            check_key("param", key)
            value = self._redacted(f"params.{key}", normalize_param(key, value), key)
            previous = self._params.get(key, staged.get(key, _MISSING))
            if previous is not _MISSING:
                if _same(previous, value):
                    continue
                raise ParamConflictError(key, previous, value)
            staged[key] = value
            rows.append((self.run_id, key, *encode_param(value)))
        with self._lock:
            self._params.update(staged)
            self._pending.params.extend(rows)
            self._touched = True

    def log_metric(self, key: str, value: Any, step: int | None = None, timestamp: float | None = None) -> None:
        """Record one point of a metric. ``step=None`` means the next step for this key."""
        if self.status != "RUNNING" or self.pid != _pid:
            raise ForkedRunError(self.run_id, self.pid) if self.pid != _pid else RunEndedError(self.run_id, self.status)
        if key not in self._known_metric_keys:
            check_key("metric", key)
            self._known_metric_keys.add(key)
        value = metric_value(key, value)
        moment = time.time() if timestamp is None else _as_timestamp(key, timestamp)
        with self._lock:
            if step is None:
                step = self._next_step.get(key, 0)
            elif type(step) is not int or not -_STEP_LIMIT <= step < _STEP_LIMIT:
                step = _as_step(key, step)
            if step >= self._next_step.get(key, 0):
                self._next_step[key] = step + 1
            self._pending.metrics.append((self.run_id, key, step, value, moment))
            latest = self._latest.get(key)
            if latest is None or step >= latest[0]:
                self._latest[key] = self._pending.latest[(self.run_id, key)] = (step, value, moment)
            self._touched = True

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None, timestamp: float | None = None) -> None:
        """Record one point for each metric in ``metrics`` (validated before any is recorded)."""
        values = {key: metric_value(check_key("metric", key), value) for key, value in dict(metrics).items()}
        for key, value in values.items():
            self.log_metric(key, value, step=step, timestamp=timestamp)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (a string label; setting it again replaces the value)."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._check_open()
        moment = time.time()  # when set: of two values of a tag, the later one wins (also across synced stores)
        rows = [(self.run_id, check_key("tag", k), self._redacted(f"tags.{k}", tag_value(k, v), k), moment)
                for k, v in dict(tags).items()]
        with self._lock:
            for _, key, value, _ in rows:
                self._tags[key] = value
            self._pending.tags.extend(rows)
            self._touched = True

    def log_note(self, text: str) -> None:
        """Append a free-text note to the run."""
        self._check_open()
        if not isinstance(text, str):
            raise TypeError(f"a note is text, not {type(text).__name__}")
        check_text("note", text)
        text = self._redacted("notes", text)
        with self._lock:
            self._pending.notes.append((self.run_id, uuid.uuid4().hex, text if text.endswith("\n") else text + "\n"))
            self._touched = True

    def log_artifact(self, obj: Any, name: str | None = None) -> str:
        """Store a file, a directory, bytes, text, a figure, a DataFrame or a picklable object.

        Returns the artifact's name in the run (for a directory: its folder name).
        """
        from .artifacts import errors_document, prepare_artifacts

        self._check_open()
        rows, display_name, unsaved = prepare_artifacts(self, obj, name)
        with self._lock:
            self._pending.artifacts.extend(rows)
            self._artifact_names.append(display_name)
            self._unsaved_artifacts.extend(unsaved)
            self._touched = True
        if unsaved:  # the artifact store could not take it now: retried at the next flushes
            self.set_document("artifact_errors", errors_document(self._unsaved_artifacts))
        return display_name

    def log_image(self, image: Any, name: str, step: int | None = None) -> str:
        """Keep ``image`` as step ``step`` of the media series ``name`` (``step=None``: the next one).

        Takes matplotlib and plotly figures, numpy arrays (HxW, HxWx3, HxWx4; floats in [0, 1]
        or integers in [0, 255]), PIL images, image bytes and image file paths. The dashboard
        shows one series of several runs side by side with one step slider. Returns the
        stored artifact name (``name/step-000000012.png``).
        """
        return self._log_media(image, name, step)

    def log_figure(self, figure: Any, name: str, step: int | None = None) -> str:
        """Keep a matplotlib or plotly figure as step ``step`` of the media series ``name``
        (``step=None``: the next one); see :meth:`log_image`."""
        from .media import is_figure

        if not is_figure(figure):
            raise TypeError(f"log_figure takes a matplotlib or plotly figure, not {type(figure).__name__}; "
                            "use log_image for arrays, PIL images, bytes and files")
        return self._log_media(figure, name, step)

    def _log_media(self, obj: Any, name: str, step: int | None) -> str:
        from .media import check_step, prepare_media

        self._check_open()
        check_key("media", name)
        with self._lock:
            chosen = self._media_steps.get(name, 0) if step is None else check_step(name, step)
        row = prepare_media(self, obj, name, chosen)
        with self._lock:
            self._media_steps[name] = max(self._media_steps.get(name, 0), chosen + 1)
            self._pending.artifacts.append(row)
            if name not in self._artifact_names:
                self._artifact_names.append(name)
            self._touched = True
        return row["name"]

    def _retry_artifacts(self, blobs: Any) -> None:
        """Write the artifacts the artifact store refused before (``blobs`` None: it is not at hand);
        once the run has ended, what still fails is recorded as not stored."""
        from .artifacts import errors_document, retry_unsaved

        before = errors_document(self._unsaved_artifacts)
        stored, still = retry_unsaved(self._unsaved_artifacts, blobs, give_up=self.status != "RUNNING")
        with self._lock:
            self._pending.artifacts.extend(stored)
            self._unsaved_artifacts = still
        if errors_document(still) != before:
            self.set_document("artifact_errors", errors_document(still))

    def log_dataset(self, data: Any, name: str, store: bool = True, max_copy_bytes: int | str | None = None) -> dict:
        """Fingerprint a DataFrame, Series, array, file or directory (content hash, shape, columns, dtypes)
        and, with ``store``, keep a copy of it unless it is larger than ``max_copy_bytes`` (default
        ``NBTRACK_DATASET_COPY_LIMIT`` or 100 MB): see :mod:`nbtrack.dataset_store`."""
        from .dataset_store import stored_copy
        from .datasets import fingerprint

        self._check_open()
        check_key("dataset", name)
        info = fingerprint(data)
        info.update(stored_copy(self.store_uri, data, dict(info, name=name), store, max_copy_bytes))
        self.record_dataset(name, info)
        return info

    def record_dataset(self, name: str, info: dict) -> None:
        """Record a dataset whose fingerprint (and stored copy) is known, e.g. one loaded from another run."""
        self._check_open()
        row = {"run_id": self.run_id, "name": check_key("dataset", name), "fingerprint": info["fingerprint"],
               "info": _json(info), "created_time": time.time()}
        with self._lock:
            self._pending.datasets.append(row)
            self._touched = True

    def set_document(self, key: str, value: Any, *, redacted: list | None = None) -> None:
        """Attach a JSON-able document (stored once per distinct content; setting a key again
        replaces it). Its strings are redacted (:mod:`nbtrack.secrets`) unless the caller did
        it already and passes what it found as ``redacted`` (a list, maybe empty)."""
        if isinstance(key, str) and len(key) > 64:
            raise ValueError(f"document key must be at most 64 characters, got {key[:70]!r}")
        if key != "redactions":
            findings: list[_secrets.Finding] = list(redacted) if redacted is not None else []
            if redacted is None:
                value = _secrets.redact_document(value, findings)
            if findings:
                self._note_redactions(f"documents.{key}", findings)
        with self._lock:
            self._pending.documents.append((self.run_id, check_key("document", key), value))

    def _redacted(self, where: str, value: Any, name: str | None = None) -> Any:
        """``value`` with secrets redacted (:mod:`nbtrack.secrets`), noting where in ``redactions``."""
        if not isinstance(value, (str, dict, list, tuple)):
            return value
        findings: list[_secrets.Finding] = []
        value = _secrets.redact_value(value, name, findings)
        if findings:
            self._note_redactions(where, findings)
        return value

    def _note_redactions(self, where: str, findings: list) -> None:
        """Say in the run what was redacted and where (pattern names, never values)."""
        with self._lock:
            self._redactions.extend(_secrets.summarize(where, findings))
            rows = list(self._redactions)
        self.set_document("redactions", rows)

    # --- reading back what this process logged ----------------------------------

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def metrics(self) -> dict[str, float]:
        """Latest value of each metric."""
        return {key: point[1] for key, point in self._latest.items()}

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    @property
    def artifact_names(self) -> list[str]:
        """The names of the artifacts this process logged to the run, in order."""
        return list(self._artifact_names)

    @property
    def duration(self) -> float:
        return (self.end_time or time.time()) - self.start_time

    # --- lifecycle --------------------------------------------------------------

    def end(self, status: str = "FINISHED", *, wait: bool = True) -> None:
        """End the run and write everything it logged. Ending twice does nothing.

        ``wait=False`` (``%%track``: the cell does not wait for the disk) returns at once: the
        background flusher writes the run right after, with its background work (environment
        capture, imported packages) when that is done; ``nbtrack.flush()`` waits for both, and
        readers in this process flush first."""
        if status not in STATUSES[1:]:
            raise ValueError(f"status must be one of FINISHED, FAILED, KILLED, not {status!r}")
        if self.status != "RUNNING":
            return
        from . import sysmetrics

        sysmetrics.finish(self)  # first: the waits below are nbtrack's, not the run's work
        self._record_imported_packages()
        if wait:
            self.wait_for_background()
        with self._lock:
            self.end_time = time.time()
            self.status = status
            self._pending_end = (self.run_id, status, self.end_time)
        with _stack_lock:
            if self in _active:
                _active.remove(self)
        if not wait or FLUSHER.reporter.failing:  # (store down: don't wait for another connect timeout)
            FLUSHER.wake()
            return
        try:
            self.flush()
        except Exception as error:  # store down: the flusher retries; the user's code goes on
            FLUSHER.reporter.failed(error)

    def fail(self, error: BaseException | None = None) -> None:
        """End the run as FAILED, storing the exception's type, message and traceback."""
        if error is None:
            error = sys.exc_info()[1]
        if error is not None and self.status == "RUNNING":
            self.set_document("error", {
                "type": type(error).__name__,
                "message": self._redacted("error.message", str(error)),
                "traceback": self._redacted(
                    "error.traceback", "".join(traceback.format_exception(type(error), error, error.__traceback__))),
            }, redacted=[])  # _redacted noted what it found
        self.end("FAILED")

    def kill(self) -> None:
        """End the run as KILLED (interrupted)."""
        self.end("KILLED")

    def is_done(self) -> bool:
        """Ended with nothing left to write. False while a flush or spill is under way: its data is
        out of the buffer then, and comes back if the write fails."""
        if not self._flush_lock.acquire(blocking=False):
            return False
        try:
            return self.status != "RUNNING" and self._pending_end is None and not self._pending \
                and not self._background
        finally:
            self._flush_lock.release()

    # --- writing ----------------------------------------------------------------

    def flush(self, heartbeat: bool = False) -> None:
        """Write buffered data to the store now (raises if the store cannot be reached)."""
        if self.status == "DISCARDED" or self.pid != os.getpid():  # a forked child's copy: the parent writes it
            return
        store = config.store_for(self.store_uri)  # outside the lock: a spill must not wait for a connect
        with self._flush_lock:
            if self._unsaved_artifacts:
                self._retry_artifacts(store.blobs)
            batch, end = self._take_batch(heartbeat)
            try:
                FLUSHER.write(store, batch)
            except BaseException:
                with self._lock:
                    self._requeue(batch, end)
                raise
            self._created = True

    def spill(self, journal: Any) -> None:
        """Move the buffered data to the local journal (``nbtrack.journal.Journal``; raises OSError)."""
        if self.status == "DISCARDED" or self.pid != os.getpid():
            return
        with self._flush_lock:
            if self._unsaved_artifacts and self.status != "RUNNING":
                self._retry_artifacts(None)
            batch, end = self._take_batch(heartbeat=False)
            if not batch:
                return
            try:
                journal.append(batch)
            except BaseException:
                with self._lock:
                    self._requeue(batch, end)
                raise
            self._created = True  # the journal creates it, before anything newer

    def pending_points(self) -> int:
        return len(self._pending.metrics)

    def _take_batch(self, heartbeat: bool) -> tuple[Batch, tuple | None]:
        """Everything buffered, as one batch (with the run's creation until it was written)."""
        with self._lock:
            batch, self._pending = self._pending, Batch()
            end, self._pending_end = self._pending_end, None
        if not self._created:
            batch.creates.append((self.run_id, self.experiment, self.name, self.start_time, self.parent_run_id,
                                  self.user, self.host))
        if end is not None:
            batch.ends.append(end)
        elif heartbeat and self.status == "RUNNING":
            batch.heartbeats.append((self.run_id, time.time()))
        return batch, end

    def _requeue(self, batch: Batch, end: tuple | None) -> None:
        pending = self._pending
        pending.params[:0] = batch.params
        pending.metrics[:0] = batch.metrics
        for key, value in batch.latest.items():
            pending.latest.setdefault(key, value)
        pending.tags[:0] = batch.tags
        pending.artifacts[:0] = batch.artifacts
        pending.datasets[:0] = batch.datasets
        pending.documents[:0] = batch.documents
        pending.notes[:0] = batch.notes
        if end is not None and self._pending_end is None:
            self._pending_end = end

    # --- work finished in the background: environment, imported packages, late documents --------

    def in_background(self, what: str, work: Callable[[], None], own_thread: bool = False) -> None:
        """Run ``work`` (which may set documents, tags and artifacts of this run, even after it
        ended) on the background thread, or on a thread of its own (``own_thread``: work that may
        be slow, like git on a big repository, must not hold up the others). The flusher keeps
        the run until it returns, also a run it had written and let go after its end; ``end()``
        waits for it, ``end(wait=False)`` does not; at exit it gets a few seconds to finish."""
        done = threading.Event()
        with self._lock:
            self._background.append(done)
        FLUSHER.add(self)  # %%track hands notebook.py over after the end: the flusher may have let the run go
        worker = _WORKER

        def job() -> None:
            worker.current.run = self
            try:
                with guarded(what):
                    work()
            finally:
                worker.current.run = None
                with self._lock:
                    self._background.remove(done)
                done.set()
                _capturing.discard(threading.current_thread())
                FLUSHER.wake()

        if not own_thread:
            worker.submit(job)
            return
        thread = threading.Thread(target=job, name=f"nbtrack-{what.replace(' ', '-')}", daemon=True)
        _capturing.add(thread)  # a fork waits for it: a child must not inherit a half-done import
        thread.start()

    def wait_for_background(self, timeout: float = 10.0) -> bool:
        """Wait (at most ``timeout`` s in all) for the run's background work; True if it finished."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self._background)
        for done in pending:
            done.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            return not self._background

    def _start_environment_capture(self) -> None:
        from .environment import INCOMPLETE, capture_environment, recent_environment

        recent = recent_environment()
        if recent is not None and config.store_is_open(self.store_uri):
            self.set_document("environment", recent[0], redacted=recent[1])
            return
        # replaced when the capture ends; stays if the process ends first (killed kernel)
        self.set_document("environment", INCOMPLETE, redacted=[])

        def capture() -> None:
            try:  # open the store early too: importing SQLAlchemy at interpreter exit fails
                if not FLUSHER.reporter.failing:  # (a down store would delay the capture by a connect timeout)
                    config.store_for(self.store_uri)
            except Exception:
                pass  # reported by the first flush
            try:
                document, findings = capture_environment()
                self.set_document("environment", document, redacted=findings)
            except Exception as error:  # never let environment capture break a run
                self.set_document("environment", {"error": f"{type(error).__name__}: {error}"})

        self.in_background("environment capture", capture, own_thread=True)

    def _record_imported_packages(self) -> None:
        """What the run imported (every run, also one that shared a recent capture): at once when
        the module-to-distribution map is ready, else in the background."""
        if not self._captures_environment:
            return
        with guarded("recording the imported packages"):
            from .environment import imported_packages, imported_packages_ready, top_level_modules

            if imported_packages_ready():
                self.set_document("imported_packages", imported_packages(), redacted=[])
                return
            modules = top_level_modules()
            self.in_background("imported packages", lambda: self.set_document(
                "imported_packages", imported_packages(modules), redacted=[]))

    def __repr__(self) -> str:
        return f"<Run {self.run_id[:8]} {self.experiment}/{self.name} {self.status}>"


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


def _as_step(key: str, step: Any) -> int:
    try:
        as_int = int(step)
    except (TypeError, ValueError):
        raise TypeError(f"step of metric {key!r} must be an integer, not {type(step).__name__}") from None
    if as_int != step:
        raise TypeError(f"step of metric {key!r} must be an integer, not {step!r}")
    if not -_STEP_LIMIT <= as_int < _STEP_LIMIT:
        raise ValueError(f"step of metric {key!r} must fit in 64 bits (|step| < 2**63), got {as_int}")
    return as_int


_STEP_LIMIT = 2**63


def _as_timestamp(key: str, timestamp: Any) -> float:
    try:
        moment = float(timestamp)
    except (TypeError, ValueError):
        raise TypeError(f"timestamp of metric {key!r} must be seconds since the epoch (a number), "
                        f"not {type(timestamp).__name__}") from None
    if not -9e9 < moment < 9e9:  # NaN, infinities, and times pandas cannot show (beyond ~2255)
        raise ValueError(f"timestamp of metric {key!r} must be seconds since the epoch "
                         f"(not milliseconds), got {timestamp!r}")
    return moment


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str, allow_nan=True)


_ADJECTIVES = ("amber", "bold", "calm", "deft", "eager", "fair", "glad", "keen", "lucid", "mellow",
               "nimble", "proud", "quick", "rapid", "sly", "tidy", "vivid", "wise", "young", "zesty")
_NOUNS = ("otter", "falcon", "heron", "lynx", "marten", "newt", "orca", "panda", "quail", "raven",
          "shrew", "tapir", "urchin", "vole", "wren", "yak", "zebra", "bison", "crane", "dingo")


def _default_name(run_id: str) -> str:
    number = int(run_id[:8], 16)
    return f"{_ADJECTIVES[number % 20]}-{_NOUNS[(number // 20) % 20]}-{run_id[:4]}"


def end_active_runs_at_exit(settle: float | None = None) -> None:
    """At interpreter exit: FAILED after an uncaught exception, KILLED in a kernel, else FINISHED;
    write what is ready, then give the runs' background work (environment capture, snapshot) up
    to ``settle`` seconds to land: a kernel asked to shut down is killed 5 s later (jupyter_client's
    ``shutdown_wait_time``). A run whose capture did not finish keeps an environment document
    saying so. ``NBTRACK_EXIT_SETTLE`` changes the 3 s (``nbtrack run`` waits longer)."""
    if settle is None:
        settle = float(os.environ.get("NBTRACK_EXIT_SETTLE", "3"))
    _end_active_runs()
    from .flusher import FLUSHER as flusher

    flusher.flush_all()
    deadline = time.monotonic() + settle
    for run in flusher.runs():
        if run.pid == os.getpid():
            run.wait_for_background(max(0.0, deadline - time.monotonic()))


def _end_active_runs() -> None:
    in_kernel = "ipykernel" in sys.modules
    for run in reversed(list(_active)):
        if run.pid != os.getpid():  # a forked child exiting must not end its parent's runs
            continue
        if _uncaught_exception and isinstance(_uncaught_exception[0], KeyboardInterrupt):
            run.kill()
        elif _uncaught_exception:
            run.fail(_uncaught_exception[0])
        else:
            run.end("KILLED" if in_kernel else "FINISHED")


def _remember_uncaught(hook):
    @functools.wraps(hook)
    def excepthook(exc_type, exc, tb):
        _uncaught_exception.append(exc)
        return hook(exc_type, exc, tb)

    return excepthook


sys.excepthook = _remember_uncaught(sys.excepthook)
