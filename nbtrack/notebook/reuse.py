"""Don't train twice: a ``%%track`` cell's identity, the identical finished run, ``--reuse``.

**Identity** (computed when the cell starts, stored as the run's ``nbtrack.identity`` tag, a
SHA-256 looked up through the partial index ``ix_tags_identity``): the hash of

- the cell's code (without its ``%%``-magic lines, after the normalisation of
  :mod:`.cellsource`: CRLF, whitespace-only lines, outer blank lines) and what its ``%%track``
  line asks to record (``params=``, ``metrics=``, ``artifacts=``; not the experiment, name or tags);
- the code of the cells it depends on: the executions of this kernel (since its last ``%reset``)
  that bound a name the cell reads, and transitively the ones those read, as the hidden-state
  analysis sees names (:mod:`.cellflow`: reads before binds, in-place changes, functions'
  free names when they are called); in execution order;
- the values of the plain variables the cell reads (numbers, strings, bools, None, and lists,
  tuples and dicts of those): state no source shows, such as ``n = len(os.listdir())``;
- the content of local modules the cell uses directly (a module, function or class whose file
  is outside the Python installation and its site-packages).

**Identical run**: a FINISHED run with the same identity whose datasets have the same content
now: each file or directory it logged fingerprinted again at its path, each DataFrame, Series
or array it logged found among the values of the cell's variables (after the cell: also the
names it binds). Params need no separate check: the cell's literals are in its code and other
plain values it reads are in the identity. Not compared: package versions, data the cell reads
without ``nbtrack.log_dataset``, code of modules imported by local modules.

**--reuse**: when an identical run exists before the cell runs, the body is skipped, no run is
made, and the run's logged values are put in the namespace where they are plain values: params
and latest metric values whose names the cell binds. Artifacts (models, figures) are not
restored. In a kernel started by ``nbtrack rerun`` reuse is off (a re-run must run).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any

from ..systemtags import IDENTITY_TAG
from .cellflow import Binding, cell_flow, expand
from .cellparams import code_body
from .cellsource import normalize

VERSION = 1
MAX_PLAIN = 1000  # items of a list/dict value taken into the identity; larger ones are not "plain"


# --- dependencies ------------------------------------------------------------------------


@dataclass
class _Replay:
    """The kernel's executions replayed over names: which execution last bound each name, and for
    each binding the (execution, name) pairs its value was made from. Extended as history grows."""

    executions: list[Any] = field(default_factory=list)
    namespace: dict[str, tuple[int, Binding]] = field(default_factory=dict)
    made_from: list[dict[str, frozenset[tuple[int, str]]]] = field(default_factory=list)

    def _deferred(self, name: str) -> frozenset[str]:
        entry = self.namespace.get(name)
        return entry[1].deferred if entry is not None else frozenset()

    def producers(self, names: Any) -> frozenset[tuple[int, str]]:
        """(execution position, name) of the values ``names`` (and the functions among them, when
        called) read now."""
        return frozenset((self.namespace[n][0], n) for n in expand(names, self._deferred) if n in self.namespace)

    def extend(self, executions: list[Any]) -> None:
        for position in range(len(self.executions), len(executions)):
            execution = executions[position]
            flow = cell_flow(execution.source, execution.failed_line)
            made: dict[str, frozenset[tuple[int, str]]] = {}
            for name, binding in flow.binding_items:
                if binding.kind != "deleted":
                    inputs = binding.inputs if binding.kind == "function" else binding.inputs | binding.deferred
                    made[name] = self.producers(inputs)
            for name, binding in flow.binding_items:
                if binding.kind == "deleted":
                    self.namespace.pop(name, None)
                else:
                    self.namespace[name] = (position, binding)
            self.made_from.append(made)
            self.executions.append(execution)


_replay_lock = threading.Lock()
_replay = _Replay()


def dependencies(executions: list[Any], tracked_source: str) -> list[int]:
    """Positions in ``executions`` of the executions the cell ``tracked_source`` depends on, in order."""
    global _replay
    with _replay_lock:
        done = _replay.executions
        if len(done) > len(executions) or any(a is not b for a, b in zip(done, executions)):
            _replay = _Replay()  # not an extension of the last history (a %reset): start again
        _replay.extend(executions)
        pending = list(_replay.producers(cell_flow(tracked_source).inputs))
        seen: set[tuple[int, str]] = set()
        while pending:
            pair = pending.pop()
            if pair not in seen:
                seen.add(pair)
                pending.extend(_replay.made_from[pair[0]].get(pair[1], ()))
    return sorted({position for position, _ in seen})


# --- the identity -------------------------------------------------------------------------


def _plain(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth > 5:
        return False
    if isinstance(value, (list, tuple)):
        return len(value) <= MAX_PLAIN and all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_PLAIN and all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


_file_hashes: dict[str, tuple[tuple[int, int], str]] = {}
_EXCLUDED_PREFIXES = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def _local_file(value: Any) -> str | None:
    """The source file of a module, function or class defined outside the Python installation."""
    if isinstance(value, types.ModuleType):
        module = value
    elif isinstance(value, (types.FunctionType, type)):
        module = sys.modules.get(getattr(value, "__module__", "") or "")
    else:
        return None
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py") or module.__name__.split(".")[0] == "nbtrack":
        return None
    real = os.path.realpath(path)
    return None if real.startswith(_EXCLUDED_PREFIXES) or "site-packages" in real else real


def _file_hash(path: str) -> str | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _file_hashes.get(path)
    if cached is None or cached[0] != key:
        with open(path, "rb") as handle:
            cached = _file_hashes[path] = (key, hashlib.sha256(handle.read()).hexdigest())
    return cached[1]


@dataclass
class Identity:
    """A tracked cell's identity (``key``, None when it could not be computed) and what the reuse
    checks need: the names it reads and binds."""

    key: str | None
    reads: tuple[str, ...] = ()
    binds: frozenset[str] = frozenset()
    dependencies: int = 0  # how many executions the cell depends on
    error: str | None = None


def identity_of(args: Any, raw_cell: str, executions: list[Any], namespace: dict[str, Any]) -> Identity:
    """The :class:`Identity` of the cell that ran ``raw_cell`` after ``executions`` (the kernel's
    history before it, since its last reset). Never raises."""
    try:
        flow = cell_flow(raw_cell)
        positions = dependencies(executions, raw_cell)
        reads = tuple(expand(flow.inputs, _replay._deferred))
        values, files = {}, {}
        for name in reads:
            if name not in namespace:
                continue
            value = namespace[name]
            if _plain(value):
                values[name] = value
            else:
                path = _local_file(value)
                if path is not None:
                    files[name] = _file_hash(path)
        records = {"params": args.params if isinstance(args.params, str) else list(args.params),
                   "metrics": list(args.metrics), "artifacts": list(args.artifacts)}
        identity = {"version": VERSION, "code": normalize(code_body(raw_cell)), "records": records,
                    "dependencies": [normalize(code_body(executions[p].source)) for p in positions],
                    "values": values, "files": files}
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=repr)
        return Identity(hashlib.sha256(text.encode("utf-8")).hexdigest(), reads, flow.bound, len(positions))
    except Exception as error:  # noqa: BLE001 - no identity: the cell is tracked as usual
        return Identity(None, error=f"{type(error).__name__}: {error}")


# --- identical runs ---------------------------------------------------------------------


def _fingerprints(names: Any, namespace: dict[str, Any]) -> set[str]:
    from ..datasets import fingerprint

    found = set()
    for name in names:
        value = namespace.get(name)
        module = type(value).__module__
        if value is None or not (module.startswith("pandas") or module.startswith("numpy")):
            continue
        try:
            found.add(fingerprint(value)["fingerprint"])
        except (TypeError, ValueError):
            continue
    return found


def data_difference(record: Any, names: Any, namespace: dict[str, Any]) -> str | None:
    """Why ``record``'s datasets do not have the same content now (None: they do). Files are
    fingerprinted again; in-memory data must be the value of one of ``names``."""
    from ..datasets import fingerprint

    in_memory: set[str] | None = None
    for dataset in record.datasets:
        if dataset.get("kind") in ("file", "directory"):
            path = dataset.get("path") or ""
            if not os.path.exists(path):
                return f"its dataset {dataset['name']!r} ({path}) is gone"
            if fingerprint(path)["fingerprint"] != dataset["fingerprint"]:
                return f"its dataset {dataset['name']!r} ({path}) changed"
        else:
            in_memory = _fingerprints(names, namespace) if in_memory is None else in_memory
            if dataset["fingerprint"] not in in_memory:
                return f"its dataset {dataset['name']!r} is not the value of any variable the cell uses"
    return None


@dataclass
class Match:
    """The identical run found for a cell (``record``), or why none was (``reason``)."""

    record: Any | None = None
    reason: str | None = None


def find_identical(identity: Identity, exclude: str | None, names: Any, namespace: dict[str, Any]) -> Match:
    """The newest FINISHED run with ``identity`` whose data is the same now."""
    from .. import config
    from ..store.identity import finished_runs_with_identity
    from ..store.records import load_run

    if identity.key is None:
        return Match(reason=f"no identity ({identity.error})")
    store = config.get_store()
    reason = "no finished run of the same cell with the same inputs"
    for run_id in finished_runs_with_identity(store, identity.key, exclude):
        record = load_run(store, run_id)
        difference = data_difference(record, names, namespace)
        if difference is None:
            return Match(record)
        reason = f"run {run_id[:8]} ran the same code, but {difference}"
    return Match(reason=reason)


def headline_text(record: Any) -> str:
    """``acc=0.81`` for the run's headline metric, "" when it has none."""
    from ..formatting import format_number
    from ..headline import headline_key

    key = headline_key(record.metrics)
    return f"{key}={format_number(record.metrics[key])}" if key is not None else ""


def _bundle(text: str) -> dict[str, str]:
    return {"text/plain": text, "text/html": f'<div class="nbtrack-identical" style="font-size:12px;color:#1565c0">'
                                            f"{html.escape(text)}</div>"}


def reuse_off_reason() -> str | None:
    """Why ``--reuse`` must run the body anyway here (a kernel started by ``nbtrack rerun``)."""
    from ..sweep_launch import launch_context

    context = launch_context()
    return "this kernel re-runs a notebook (nbtrack rerun): every cell runs" if context and not context.reuse \
        else None


class CellReuse:
    """The hook ``%%track`` calls: the identity when the cell starts, ``--reuse``, and the notice
    after the cell when an identical run existed."""

    def __init__(self, shell: Any, identity: Identity) -> None:
        self.shell = shell
        self.identity = identity
        self.candidates: list[Any] = []  # finished runs with the same identity: the first loaded, then ids
        self._done = threading.Event()

    @classmethod
    def start(cls, shell: Any, history: Any, args: Any, raw_cell: str, count: int | None) -> "CellReuse":
        """The cell's identity, and (without ``--reuse``, which looks up synchronously) the look-up of
        identical runs on a thread of its own, begun at once so it is done by the cell's end (the
        runs' background worker may still be busy with the last cell's snapshot)."""
        from ..flusher import FLUSHER

        executions = history.executions(before=count, since_reset=True)
        reuse = cls(shell, identity_of(args, raw_cell, executions, shell.user_ns))
        if args.reuse or reuse.identity.key is None or FLUSHER.reporter.failing:  # a store down: no look-up
            reuse._done.set()
        else:
            threading.Thread(target=reuse._look_up, name="nbtrack-identical-run", daemon=True).start()
        return reuse

    # --- --reuse: before the body -------------------------------------------------------

    def try_reuse(self, cell_id: str | None) -> bool:
        """With ``--reuse``: when an identical run exists, restore its values and return True (the
        body is skipped); else say why not and return False (the cell runs and is tracked)."""
        from ..secrets import redact
        from . import frontend_link
        from .summary import show

        off = reuse_off_reason()
        if off is not None:
            print(f"nbtrack: --reuse ignored: {off}", file=sys.stderr)
            return False
        try:
            _write_ended_runs()
            match = find_identical(self.identity, None, self.identity.reads, self.shell.user_ns)
        except Exception as error:  # noqa: BLE001 - the store is unreachable: run the cell
            match = Match(reason=f"the look-up failed ({type(error).__name__}: {error})")
        if match.record is None:
            print(f"nbtrack: nothing to reuse ({match.reason}): running the cell", file=sys.stderr)
            return False
        record = match.record
        restored, skipped = restore(record, self.identity.binds, self.shell.user_ns)
        parts = [f"nbtrack: reused run {record.run_id[:8]} (identical: same code, inputs and data)"]
        headline = headline_text(record)
        if headline:
            parts.append(headline)
        parts.append(f"restored {', '.join(restored)}" if restored else "nothing to restore")
        if skipped:
            parts.append(f"not restored: {', '.join(skipped)} (not logged as params or metrics)")
        parts.append(f"artifacts are not restored: nbtrack.get_run('{record.run_id[:8]}').artifact(name).load()")
        show(_bundle(redact(" · ".join(parts))))
        frontend_link.notify({"type": "run_started", "cell_id": cell_id, "run_id": record.run_id,
                              "experiment": record.experiment})
        frontend_link.notify({"type": "run_finished", "cell_id": cell_id, "run_id": record.run_id,
                              "status": record.status, "experiment": record.experiment,
                              "duration": record.duration, "headline": None})
        return True

    # --- the notice: after the body ----------------------------------------------------

    def started(self, run: Any) -> None:
        """Tag the cell's new run with the identity (what later look-ups find)."""
        if self.identity.key is not None:
            run.set_tag(IDENTITY_TAG, self.identity.key)

    def _look_up(self) -> None:
        from .. import config
        from ..store.identity import finished_runs_with_identity
        from ..store.records import load_run

        try:
            _write_ended_runs()
            store = config.get_store()  # this cell's own run is RUNNING: never among them
            self.candidates = finished_runs_with_identity(store, self.identity.key, limit=3)
            if self.candidates:  # the newest is the one shown, mostly: load it now, while the cell runs
                self.candidates[0] = load_run(store, self.candidates[0])
        except Exception:  # noqa: BLE001 - no notice; the run is tracked as usual
            self.candidates = []
        finally:
            self._done.set()

    def notice(self, wait: float = 0.25) -> None:
        """Show "identical to run ..." when a candidate found at the start has the same data now
        (a look-up not done ``wait`` s after the cell, on a slow store, shows nothing)."""
        from ..secrets import redact
        from .summary import show

        if not self._done.wait(wait) or not self.candidates:
            return
        from .. import config
        from ..store.records import load_run

        names = set(self.identity.reads) | set(self.identity.binds)
        for record in self.candidates:
            try:
                record = load_run(config.get_store(), record) if isinstance(record, str) else record
                if data_difference(record, names, self.shell.user_ns) is not None:
                    continue
            except Exception:  # noqa: BLE001 - no notice rather than a wrong one
                continue
            headline = headline_text(record)
            show(_bundle(redact(f"nbtrack: identical to run {record.run_id[:8]}… "
                                + (f"{headline} " if headline else "")
                                + "(same code, inputs and data): %%track --reuse would have skipped the body")))
            return


def _write_ended_runs() -> None:
    """Write what this kernel's ended runs still hold (a run of the same cell that just ended and
    the flusher has not written yet); running ones are left to the flusher."""
    from ..flusher import FLUSHER

    for run in FLUSHER.runs():
        if run.status != "RUNNING" and not run.is_done():
            run.flush()


def restore(record: Any, binds: frozenset[str], namespace: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Put ``record``'s params and latest metric values into ``namespace`` under the names the cell
    binds; returns (restored names, names the cell binds that were not restored)."""
    restored, values = [], {**record.params, **record.metrics}
    for name in sorted(binds):
        if name in values and name.isidentifier():
            namespace[name] = values[name]
            restored.append(name)
    skipped = sorted(name for name in binds if name not in restored and not name.startswith("_"))
    return restored, skipped
