"""``nbtrack sweep``: run a notebook once per combination of parameter values.

- The grid is the product of the ``-p name=v1,v2`` values; each combination gets its own copy
  of the notebook with the values injected (:mod:`nbtrack.runner.params`: the cell tagged
  ``parameters``, else the ``%%track`` cells' literals) and its own fresh kernel; ``jobs``
  kernels run at a time (each a process; this process waits on them from threads).
- A **sweep run** (tag ``nbtrack.sweep = parent``, the grid in its ``sweep`` document) is the
  parent of every top-level run the combinations track; those runs record the swept values as
  params and go to the sweep's experiment (:mod:`nbtrack.sweep_launch`). Their nested runs stay
  under them. The sweep run ends FINISHED with ``combinations`` and ``failed`` metrics and
  ``best_<metric>``, also when combinations failed.
- A failing combination does not stop the others; the summary shows its error.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..cli_core import _table, echo, terminal_text
from ..formatting import format_number
from ..sweep_launch import LaunchContext
from .execute import LAUNCH_TAG, ExecutionResult, execute_notebook, new_launch_id
from .params import ParameterError, combinations, inject, parse_grid

SWEEP_TAG = "nbtrack.sweep"  # "parent" on the sweep run
INDEX_TAG = "nbtrack.sweep_index"  # on each combination's top-level runs: its number (1-based)
SWEEP_DOCUMENT = "sweep"
_LOWER_IS_BETTER = ("loss", "error", "rmse", "mae", "mse", "mape", "perplexity")


@dataclass
class CombinationOutcome:
    """One combination: its values, how its execution went and the run that stands for it
    (the last top-level run it tracked)."""

    index: int
    values: dict[str, Any]
    execution: ExecutionResult | None = None
    run: Any | None = None  # RunRecord
    run_count: int = 0

    @property
    def failed(self) -> bool:
        return self.execution is None or not self.execution.ok or self.run is None or self.run.status != "FINISHED"

    @property
    def status(self) -> str:
        if self.execution is None:
            return "NOT RUN"
        if not self.execution.ok:
            return "FAILED"
        return self.run.status if self.run is not None else "NO RUN"

    @property
    def error(self) -> str:
        if self.execution is not None and self.execution.error:
            return self.execution.error
        if self.run is None and self.execution is not None:
            return "the notebook tracked no run (no %%track cell or nbtrack.track() ran)"
        return ""


@dataclass
class SweepOutcome:
    """Every combination of a sweep, its parent run and the headline metric of the summary."""

    parent_run_id: str
    experiment: str
    combinations: list[CombinationOutcome] = field(default_factory=list)
    metric: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[CombinationOutcome]:
        return [c for c in self.combinations if c.failed]


class SweepProgress:
    """A one-line progress bar on a terminal (redrawn as combinations start and end); elsewhere one
    line per finished combination."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done, self.failed, self.running = total, 0, 0, 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self.running += 1
            self._draw()

    def finish(self, outcome: CombinationOutcome) -> None:
        with self._lock:
            self.running -= 1
            self.done += 1
            self.failed += outcome.failed
            if not self.tty:
                values = ", ".join(f"{k}={v!r}" for k, v in outcome.values.items())
                state = f"failed: {outcome.error}" if outcome.failed else outcome.status
                echo(f"sweep: {self.done}/{self.total} done ({values}): {state}", file=self.stream)
            self._draw()

    def _draw(self) -> None:
        if not self.tty:
            return
        width = 30
        bar = "#" * int(width * self.done / self.total) if self.total else ""
        failed = f" · {self.failed} failed" if self.failed else ""
        self.stream.write(f"\rsweep [{bar:<{width}}] {self.done}/{self.total}{failed} · {self.running} running · "
                          f"{time.monotonic() - self.started:.0f} s ")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def sweep_experiment(nb: Any) -> str:
    """The experiment the notebook's ``%%track`` cells name (the first that names one), else the default."""
    from .. import config
    from ..notebook.arguments import parse_track_line

    for cell in nb.cells:
        source = cell.get("source", "").lstrip()
        for line in source.splitlines():
            if not line.startswith("%%"):
                break
            if line[2:].split(" ", 1)[0] == "track":
                try:
                    experiment = parse_track_line(line[2:].partition(" ")[2]).experiment
                except Exception:  # noqa: BLE001 - a bad %%track line fails in its own cell
                    experiment = None
                if experiment:
                    return experiment
    return config.default_experiment()


def _record_sweep_source(notebook: Path) -> Any:
    """A source-context hook for the sweep run: the swept notebook as its source, not this CLI."""
    def hook(run: Any) -> bool:
        if run.tags.get(SWEEP_TAG) != "parent":
            return False
        run.set_tags({"nbtrack.source": "sweep", "nbtrack.notebook": str(notebook)})
        run.log_artifact(notebook, name=f"source/{notebook.name}")
        return True
    return hook


def lower_is_better(metric: str) -> bool:
    return any(word in metric.lower() for word in _LOWER_IS_BETTER)


def run_sweep(notebook: str, param_options: list[str], *, jobs: int = 1, experiment: str | None = None,
              timeout: int = 600, metric: str | None = None, output_dir: str | None = None,
              out: TextIO | None = None, progress_stream: TextIO | None = None) -> SweepOutcome:
    """Run the sweep (see the module docstring) and print its summary table to ``out``."""
    import nbformat

    from .. import source_context
    from ..notebook.errors import NotebookNotFoundError
    from ..notebook.runner import store_uri
    from ..run import Run

    out = out if out is not None else sys.stdout
    path = Path(notebook).resolve()
    if not path.is_file():
        raise NotebookNotFoundError(notebook)
    if jobs < 1:
        raise ParameterError("--jobs must be at least 1")
    grid = parse_grid(param_options)
    if not grid:
        raise ParameterError("give the values to sweep: -p name=value1,value2 (repeatable)")
    nb = nbformat.read(str(path), as_version=4)
    grid_points = combinations(grid)
    for warning in inject(copy.deepcopy(nb), grid_points[0]).warnings:  # a notebook that cannot take them fails now
        echo(f"sweep: warning: {warning}", file=progress_stream or sys.stderr)
    experiment = experiment or sweep_experiment(nb)
    hook = _record_sweep_source(path)
    source_context.register(hook)
    try:
        parent = Run(experiment=experiment, name=f"sweep {path.stem}", tags={SWEEP_TAG: "parent"},
                     system_metrics=False, activate=False)  # not active: a sweep started in a tracked cell stays apart
    finally:
        source_context.unregister(hook)
    outcome = SweepOutcome(parent.run_id, parent.experiment, [CombinationOutcome(i + 1, values)
                                                              for i, values in enumerate(grid_points)])
    progress = SweepProgress(len(grid_points), progress_stream)
    echo(f"sweep {parent.run_id[:8]} ({parent.experiment}): {len(grid_points)} combinations of "
         f"{', '.join(grid)}, {min(jobs, len(grid_points))} at a time", file=progress.stream)
    started = time.perf_counter()
    store = store_uri(None)
    with tempfile.TemporaryDirectory(prefix="nbtrack-sweep-") as scratch:
        directory = Path(output_dir).resolve() if output_dir else Path(scratch)

        def run_one(combination: CombinationOutcome) -> None:
            progress.start()
            try:
                _execute(nb, path, directory, combination, parent, store, timeout, keep=output_dir is not None)
            finally:
                progress.finish(combination)

        try:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="nbtrack-sweep") as pool:
                list(pool.map(run_one, outcome.combinations))
        except KeyboardInterrupt:
            progress.close()
            parent.end("KILLED")
            raise
    progress.close()
    outcome.seconds = time.perf_counter() - started
    outcome.metric = metric or _headline(outcome)
    _end_parent(parent, outcome, grid, path, jobs)
    echo(summary_table(outcome), file=out)
    failed = len(outcome.failed)
    echo(f"\n{len(outcome.combinations)} combinations in {outcome.seconds:.1f} s"
         + (f", {failed} failed" if failed else "") + f"; sweep run {parent.run_id[:8]} in experiment "
         f"{parent.experiment} (nbtrack ls -f \"attributes.parent_run_id = '{parent.run_id}'\")", file=out)
    return outcome


def _execute(nb: Any, path: Path, directory: Path, combination: CombinationOutcome, parent: Any, store: str,
             timeout: int, keep: bool) -> None:
    import nbtrack

    variant = copy.deepcopy(nb)
    inject(variant, combination.values, note=f"nbtrack sweep {parent.run_id[:8]}, combination {combination.index}")
    launch_id = new_launch_id()
    context = LaunchContext(tags={LAUNCH_TAG: launch_id, INDEX_TAG: str(combination.index)},
                            parent_run_id=parent.run_id, experiment=parent.experiment, params=combination.values)
    target = directory / f"{path.stem}-{combination.index}.ipynb"
    combination.execution = execute_notebook(variant, target, store, context, launch_id=launch_id, cwd=path.parent,
                                             timeout=timeout, output=target if keep else None)
    top_level = [nbtrack.get_run(run_id) for run_id in combination.execution.run_ids]
    top_level = [r for r in top_level if r.parent_run_id == parent.run_id]
    combination.run_count = len(top_level)
    combination.run = top_level[-1] if top_level else None


def _headline(outcome: SweepOutcome) -> str | None:
    from ..headline import headline_key

    keys = {key for c in outcome.combinations if c.run is not None for key in c.run.metrics}
    return headline_key(keys)


def best(outcome: SweepOutcome) -> CombinationOutcome | None:
    """The finished combination with the best value of the summary's metric."""
    metric = outcome.metric
    scored = [c for c in outcome.combinations if not c.failed and metric and metric in c.run.metrics
              and c.run.metrics[metric] == c.run.metrics[metric]]
    if not scored:
        return None
    pick = min if lower_is_better(metric) else max
    return pick(scored, key=lambda c: c.run.metrics[metric])


def _end_parent(parent: Any, outcome: SweepOutcome, grid: dict[str, list], notebook: Path, jobs: int) -> None:
    winner = best(outcome)
    parent.log_metrics({"combinations": len(outcome.combinations), "failed": len(outcome.failed)})
    if winner is not None:
        parent.log_metric(f"best_{outcome.metric}", winner.run.metrics[outcome.metric])
    parent.set_document(SWEEP_DOCUMENT, {
        "notebook": str(notebook), "grid": grid, "jobs": jobs, "metric": outcome.metric,
        "seconds": outcome.seconds, "best_run": winner.run.run_id if winner is not None else None,
        "combinations": [{"index": c.index, "values": c.values, "status": c.status, "error": c.error or None,
                          "run_id": c.run.run_id if c.run is not None else None, "runs": c.run_count}
                         for c in outcome.combinations]})
    parent.end()


def summary_table(outcome: SweepOutcome) -> str:
    """One row per combination: its values, the metric, status, run id, and the error of a failed one."""
    names = list(outcome.combinations[0].values) if outcome.combinations else []
    metric = outcome.metric
    winner = best(outcome)
    headers = ["#", *names, metric or "metric", "status", "run", "error"]
    rows = []
    for combination in outcome.combinations:
        run = combination.run
        value = run.metrics.get(metric) if run is not None and metric else None
        mark = " *" if combination is winner else ""
        error = combination.error
        rows.append([str(combination.index), *(terminal_text(repr(combination.values[n]), False) for n in names),
                     (format_number(value, digits=6) + mark) if value is not None else "",
                     combination.status, run.run_id[:8] if run is not None else "",
                     terminal_text(error if len(error) <= 80 else error[:79] + "…", False)])
    if not any(row[-1] for row in rows):
        headers.pop()
        rows = [row[:-1] for row in rows]
    return _table(headers, rows)
