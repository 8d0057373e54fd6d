"""One tracked cell, start to end: snapshot, run, outputs, params, documents, summary.

Tracking never breaks the user's cell: every nbtrack-internal failure becomes one warning
line and the cell still runs with its normal output and traceback.
"""

from __future__ import annotations

import glob
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ..secrets import redact_cached, redact_text, secret_values
from ..systemtags import CELL_TAG
from . import context, execution, frontend_link
from .arguments import TrackArgs
from .cellparams import collect_params, params_known_at_start
from .cellrun import CellRun
from .cellsource import normalize, same_code
from .hidden_state import analyze
from .history import KernelHistory, current_execution_count
from .outputs import OutputCapture, output_artifacts
from .reuse import CellReuse
from .snapshot import ARTIFACT, EXACT_ARTIFACT, NotebookSnapshot, take_snapshot
from .summary import show, summary_bundle


@dataclass
class Settings:
    """What the magic's traitlets say (``%config TrackMagics....``)."""

    experiment: str | None = None
    quiet: bool = False
    capture_outputs: bool = True


def _notebook_extra(run: Any, snapshot: NotebookSnapshot) -> dict:
    """What the ``notebook`` document adds for a snapshot from disk: whether the file was saved
    after the run started."""
    if snapshot.source == "disk" and snapshot.mtime is not None:
        return {"saved_after_start": snapshot.mtime >= run.start_time}
    return {}


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _runs_track(raw_cell: str) -> bool:
    """Whether the cell's leading cell magics (``%%time``, ``%%track``, ...) include ``%%track``."""
    for line in raw_cell.lstrip().split("\n"):
        if not line.startswith("%%"):
            return False
        if line[2:].split(" ", 1)[0].strip() == "track":
            return True
    return False


class PreviousRuns:
    """The last run of each cell: remembered in this kernel, else looked up in the store."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}

    @staticmethod
    def lookup(cell_id: str, path: str | None, exclude: str, nested: bool = False) -> str | None:
        """The latest stored run of the cell ``cell_id`` of the notebook ``path`` other than ``exclude``."""
        try:
            import nbtrack

            # runs the cell's code started (children) are not runs of the cell, unless nested
            frame = nbtrack.runs(tags={CELL_TAG: cell_id}, notebook=path or None, top_level=not nested,
                                 order_by="start_time DESC", max_results=2)
            for run_id in frame["run_id"]:
                if run_id != exclude:
                    return str(run_id)
        except Exception:
            return None
        return None


@dataclass
class Outcome:
    warnings: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


class CellTracker:
    """The kernel-wide state of ``%%track``: history hooks and previous runs."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.history = KernelHistory(shell)
        self.previous = PreviousRuns()
        self.current_cell: CellRun | None = None  # while a tracked body runs (nbtrack.mlflow adopts its run)

    def start(self) -> None:
        self.history.register()

    def stop(self) -> None:
        self.history.unregister()

    # --- the cell ---------------------------------------------------------------

    def track(self, args: TrackArgs, line: str, body: str, settings: Settings) -> None:
        """Run ``body`` as one run. Raises only what the user's cell raised (when called
        outside a cell execution); inside one, the cell ends in error as usual."""
        shell = self.shell
        current = self.history.current
        count = current_execution_count(shell)
        if current is not None and _runs_track(current.raw_cell) and same_code(current.raw_cell, body):
            raw_cell, cell_id = current.raw_cell, current.cell_id
            self.history.note_current(count if current.store_history else None, cell_id)
        else:
            raw_cell, cell_id = f"%%track {line}".rstrip() + "\n" + body, None
        lines = raw_cell.split("\n")
        header = next((i + 1 for i, text in enumerate(lines) if text.startswith("%%track")), 1)
        try:
            tree, name = execution.compile_body(shell, body, raw_cell, header, count or 0)
        except Exception as error:  # a syntax error: shown as IPython shows it; nothing tracked
            if isinstance(error, SyntaxError):
                shell.showsyntaxerror()
            else:
                shell.showtraceback()
            if not execution.mark_cell_failed(shell, error):
                raise
            return

        outcome = Outcome()
        snapshot = self._snapshot(cell_id, raw_cell, outcome)
        if snapshot.stale:
            outcome.warnings.append(f"stale snapshot: {snapshot.stale_reason}; the run keeps the code that ran "
                                    "for this cell, the other cells are as saved")
        cell_id = cell_id or snapshot.cell_id
        reuse = CellReuse.start(shell, self.history, args, raw_cell, count)  # don't train twice (reuse.py)
        if args.reuse and reuse.try_reuse(cell_id):
            return
        cell = self._start_run(args, settings, snapshot, cell_id, raw_cell, body, count, outcome)
        run = cell.run if cell is not None else None
        if run is not None:
            reuse.started(run)
            try:
                self._record_start(run, args, raw_cell, body, cell_id, snapshot, count or 0, outcome)
            except KeyboardInterrupt as interrupt:  # interrupted before the code ran: the run is KILLED
                self._end(cell, interrupt, outcome)
                raise
        capture = OutputCapture(shell) if run is not None and args.outputs and settings.capture_outputs else None
        self.current_cell = cell
        started = time.time()
        error: BaseException | None = None
        if capture is not None:
            with capture:
                error = execution.run_body(shell, tree, name)
                try:
                    capture.flush_inline_figures()
                except Exception as problem:
                    outcome.warnings.append(f"could not flush matplotlib figures ({_short(problem)})")
        else:
            error = execution.run_body(shell, tree, name)
        elapsed = time.time() - started
        self.current_cell = None

        if run is not None:
            try:
                self._record(cell, args, raw_cell, body, cell_id, snapshot, capture, elapsed, outcome, error)
            except BaseException as problem:  # noqa: BLE001 - e.g. an interrupt while recording
                outcome.warnings.append(f"could not record everything ({_short(problem)})")
            self._end(cell, error, outcome)
            quiet = args.quiet or settings.quiet
            if not quiet:
                self._summary(run, outcome)
                reuse.notice()
            else:
                for warning in self._warnings(outcome):
                    print(f"nbtrack: {warning}", file=sys.stderr)
        elif outcome.warnings:
            for warning in outcome.warnings:
                print(f"nbtrack: {warning}", file=sys.stderr)

        if error is not None and not execution.mark_cell_failed(shell, error):
            raise error

    # --- steps ------------------------------------------------------------------

    def _snapshot(self, cell_id: str | None, raw_cell: str, outcome: Outcome) -> NotebookSnapshot:
        try:
            live = frontend_link.live_notebook(cell_id) if cell_id else None
            return take_snapshot(cell_id, raw_cell, self.shell.user_ns, live)
        except Exception as problem:
            outcome.warnings.append(f"no notebook snapshot ({_short(problem)})")
            return NotebookSnapshot("none", reason=f"error: {_short(problem)}")

    def _cell_key(self, cell_id: str | None, snapshot: NotebookSnapshot, body: str) -> str:
        if cell_id:
            return f"{snapshot.path or ''}#{cell_id}"
        return "source:" + hashlib.sha1(normalize(body).encode("utf-8")).hexdigest()[:16]

    def _start_run(self, args: TrackArgs, settings: Settings, snapshot: NotebookSnapshot, cell_id: str | None,
                   raw_cell: str, body: str, count: int | None, outcome: Outcome) -> CellRun | None:
        try:
            import nbtrack

            in_kernel = getattr(self.shell, "kernel", None) is not None
            tags = dict(args.tags)
            tags["nbtrack.source"] = "notebook" if in_kernel or snapshot.source != "none" else "ipython"
            if snapshot.path:
                tags["nbtrack.notebook"] = snapshot.path
            if cell_id:
                tags["nbtrack.cell"] = cell_id
            with context.suppressed():
                run = nbtrack.track(experiment=args.experiment or settings.experiment, name=args.name,
                                    tags=tags, nested=args.nested)
        except Exception as problem:
            hint = " (add --nested to make this cell a child run)" if type(problem).__name__ == "ActiveRunError" else ""
            outcome.warnings.append(f"this cell is not tracked: {_short(problem)}{hint}")
            return None
        key = self._cell_key(cell_id, snapshot, body)
        cell = CellRun(run, count, key, self.previous.last.get(key), snapshot=snapshot)
        if cell.previous is None and cell_id:  # not run in this kernel yet: ask the store, in the background
            path, nested = snapshot.path, run.parent_run_id is not None
            run.in_background("previous run lookup", lambda: cell.found_previous(
                self.previous.lookup(cell_id, path, run.run_id, nested)))
        frontend_link.notify({"type": "run_started", "cell_id": cell_id, "run_id": run.run_id,
                              "experiment": run.experiment})
        return cell

    def _record_start(self, run: Any, args: TrackArgs, raw_cell: str, body: str, cell_id: str | None,
                      snapshot: NotebookSnapshot, count: int, outcome: Outcome) -> None:
        """Record what is known before the cell runs: the notebook snapshot, the history, the
        hidden-state report and the cell's source with the literal params as written (run params
        keep the values the names hold after the cell, so a failing cell records no literal it
        never assigned). The background flusher writes them within its interval (half a second)
        while the cell runs, so a kernel killed mid-cell leaves a run that still says which code
        it ran; a short cell writes everything once, when it ends."""
        steps = (
            ("notebook snapshot", lambda: self._record_notebook(run, snapshot)),
            ("history", lambda: self._record_history(run, snapshot, raw_cell, count, outcome)),
            ("cell", lambda: self._record_cell_start(run, args, raw_cell, body, cell_id, snapshot, count)),
        )
        for what, step in steps:
            try:
                step()
            except Exception as problem:  # tracking must not break the cell
                outcome.warnings.append(f"could not record the {what} ({_short(problem)})")

    def _record(self, cell: CellRun, args: TrackArgs, raw_cell: str, body: str, cell_id: str | None,
                snapshot: NotebookSnapshot, capture: OutputCapture | None, elapsed: float, outcome: Outcome,
                error: BaseException | None = None) -> None:
        """Record everything about the cell; each step that fails is one warning, the rest goes on."""
        run = cell.run
        count = cell.count or current_execution_count(self.shell) or 0
        summaries: list[dict] = []
        steps = (
            ("params", lambda: self._record_params(run, args, body, outcome, error is None)),
            ("metrics", lambda: self._record_metrics(run, args, outcome)),
            ("artifacts", lambda: self._record_files(run, args, outcome)),
            ("outputs", lambda: summaries.extend(self._record_outputs(run, capture, outcome))),
            ("cell", lambda: self._record_cell(cell, raw_cell, cell_id, snapshot, capture, summaries, count,
                                               elapsed)),
        )
        for what, step in steps:
            try:
                step()
            except Exception as problem:  # tracking must not break the cell
                outcome.warnings.append(f"could not record the {what} ({_short(problem)})")

    def _record_params(self, run: Any, args: TrackArgs, body: str, outcome: Outcome, completed: bool = True) -> None:
        from ..errors import NbtrackError

        if isinstance(args.params, tuple):  # names given: a typo must not go unnoticed
            for name in args.params:
                if name not in self.shell.user_ns:
                    outcome.warnings.append(f"param {name!r} is not defined after the cell")
        for key, value in collect_params(args.params, body, self.shell.user_ns, completed).items():
            if args.params == "auto" and key in args.metrics:
                continue
            try:
                run.log_param(key, value)
            except (NbtrackError, ValueError, TypeError):
                pass  # logged explicitly in the cell with another value: the explicit one wins

    def _record_metrics(self, run: Any, args: TrackArgs, outcome: Outcome) -> None:
        from ..errors import NbtrackError

        namespace = self.shell.user_ns
        for name in args.metrics:
            if name not in namespace:
                outcome.warnings.append(f"metric {name!r} is not defined after the cell")
                continue
            try:
                run.log_metric(name, namespace[name])
            except (NbtrackError, ValueError, TypeError):
                outcome.warnings.append(f"metric {name!r} is not a number ({type(namespace[name]).__name__})")

    def _record_files(self, run: Any, args: TrackArgs, outcome: Outcome) -> None:
        for pattern in args.artifacts:
            files = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
            if not files:
                outcome.warnings.append(f"no file matches {pattern!r}")
            for path in files:
                relative = os.path.relpath(path)
                name = relative.replace(os.sep, "/") if not relative.startswith("..") else os.path.basename(path)
                run.log_artifact(path, name=name)

    def _record_outputs(self, run: Any, capture: OutputCapture | None, outcome: Outcome) -> list[dict]:
        summaries = []
        if capture is not None:
            for name, content, summary in output_artifacts(capture.outputs):
                if name:
                    try:
                        summary["artifact"] = run.log_artifact(content, name=name)
                    except Exception as problem:
                        summary["artifact"] = None
                        outcome.warnings.append(f"output not saved ({_short(problem)})")
                summaries.append(summary)
        return summaries

    def _record_notebook(self, run: Any, snapshot: NotebookSnapshot) -> None:
        """The ``notebook`` document now; its two artifacts are rendered and stored in the
        background (rendering imports jupytext; the cell does not wait for it), and the document
        names them once they are stored."""
        run.set_document("notebook", dict(snapshot.document(None), **_notebook_extra(run, snapshot)))
        if snapshot.notebook is not None:
            run.in_background("notebook snapshot", lambda: self._log_snapshot(run, snapshot, "exact"))

    @staticmethod
    def _log_snapshot(run: Any, snapshot: NotebookSnapshot, part: str) -> None:
        """Store one of the snapshot's artifacts (``exact`` at the start; ``text``, which needs
        jupytext, after the cell, so the rest of the run's background work does not wait for
        its import) and name what is stored in the ``notebook`` document."""
        extra = _notebook_extra(run, snapshot)
        try:
            snapshot.log_exact(run) if part == "exact" else snapshot.log_text(run)
        except Exception as problem:  # the document must not name artifacts that were not stored
            run.set_document("notebook", dict(snapshot.document(snapshot.text_name, snapshot.exact_name), **extra,
                                              reason=f"error: {_short(problem)}"))
            raise
        run.set_document("notebook", dict(snapshot.document(snapshot.text_name, snapshot.exact_name), **extra))

    def _record_history(self, run: Any, snapshot: NotebookSnapshot, raw_cell: str, count: int,
                        outcome: Outcome) -> None:
        document, redacted = self.history.document(before=count + 1)
        run.set_document("history", document, redacted=redacted)
        if snapshot.cells:
            report = analyze(snapshot.cells, self.history.executions(before=count, since_reset=True),
                             snapshot.cell_index, raw_cell)
            run.set_document("hidden_state", report)
            outcome.hidden = report["warnings"]

    def _record_cell_start(self, run: Any, args: TrackArgs, raw_cell: str, body: str, cell_id: str | None,
                           snapshot: NotebookSnapshot, count: int) -> None:
        document, redacted = self._cell_document(raw_cell, cell_id, snapshot, count)
        document["params_as_written"] = params_known_at_start(args.params, body)
        run.set_document("cell", document, redacted=redacted)

    def _record_cell(self, cell: CellRun, raw_cell: str, cell_id: str | None, snapshot: NotebookSnapshot,
                     capture: OutputCapture | None, summaries: list[dict], count: int, elapsed: float) -> None:
        known_secrets = secret_values(self.shell.user_ns)
        document, redacted = self._cell_document(raw_cell, cell_id, snapshot, count)

        def redacted_text(text: str | None) -> str | None:
            if not text:
                return text
            text, found = redact_text(text, known_secrets)
            redacted.extend(found)
            return text

        for summary in summaries:
            summary["text"] = redacted_text(summary.get("text"))
        document.update({"outputs": summaries, "execution_seconds": elapsed,
                         "stdout": redacted_text(capture.stream_text("stdout")) if capture is not None else None,
                         "stderr": redacted_text(capture.stream_text("stderr")) if capture is not None else None})
        cell.recorded(document, redacted)

    @staticmethod
    def _cell_document(raw_cell: str, cell_id: str | None, snapshot: NotebookSnapshot,
                       count: int) -> tuple[dict, list]:
        """The ``cell`` document as known when the cell starts (outputs and timing come after),
        its source redacted, and what was redacted."""
        source, redacted = redact_cached(raw_cell)
        return {"source": source, "id": cell_id, "index": snapshot.cell_index,
                "execution_count": count, "notebook": snapshot.path, "outputs": [], "previous_run": None,
                "stdout": None, "stderr": None, "execution_seconds": None}, redacted

    def _end(self, cell: CellRun, error: BaseException | None, outcome: Outcome) -> None:
        run = cell.run
        try:
            if error is None or (isinstance(error, SystemExit) and error.code in (0, None)):
                run.end(cell.end_status, wait=False)  # sys.exit(0) succeeded, as in ``with track()``
            elif isinstance(error, KeyboardInterrupt):
                run.end("KILLED", wait=False)
            else:
                self._fail(run, error)
        except BaseException as problem:  # noqa: BLE001
            outcome.warnings.append(f"could not end the run ({_short(problem)})")
        snapshot = cell.snapshot
        if snapshot is not None and snapshot.notebook is not None:  # after the run's other background work
            run.in_background("notebook text", lambda: self._log_snapshot(run, snapshot, "text"))
        self.previous.last[cell.key] = run.run_id
        headline = frontend_link.headline(run)
        frontend_link.notify({"type": "run_finished", "cell_id": run.tags.get("nbtrack.cell"),
                              "run_id": run.run_id, "status": run.status, "experiment": run.experiment,
                              "duration": run.duration, "headline": headline})

    def _fail(self, run: Any, error: BaseException) -> None:
        """``run.fail(error)``, with secrets redacted from the stored message and traceback
        (an error message often quotes the key or URL that was wrong)."""
        import traceback

        known = secret_values(self.shell.user_ns)
        message, redacted = redact_text(str(error), known)
        text, found = redact_text("".join(traceback.format_exception(type(error), error, error.__traceback__)), known)
        run.set_document("error", {"type": type(error).__name__, "message": message, "traceback": text},
                         redacted=redacted + found)
        run.end("FAILED", wait=False)

    @staticmethod
    def _warnings(outcome: Outcome) -> list[str]:
        """The warning lines of a tracked cell: its problems, then the most likely hidden-state
        cause (the run's ``hidden_state`` document keeps them all, ranked)."""
        warnings = list(outcome.warnings)
        if outcome.hidden:
            more = len(outcome.hidden) - 1
            warnings.append(f"hidden state: {outcome.hidden[0]}" + (f" (+{more} more)" if more > 0 else ""))
        return warnings

    def _summary(self, run: Any, outcome: Outcome) -> None:
        warnings = self._warnings(outcome)
        artifacts = {n for n in run.artifact_names if n not in (ARTIFACT, EXACT_ARTIFACT)}
        try:
            show(summary_bundle(run.run_id, run.experiment, run.status, run.duration, len(run.params),
                                len(run.metrics), len(artifacts), warnings))
        except Exception:
            pass
