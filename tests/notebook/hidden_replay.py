"""Replay the hidden-state corpus (hidden_corpus.py) in real kernels and score the report.

Two ways of driving a kernel, one kernel each for the whole corpus (``%reset -f`` between
cases: the report only looks at what ran since the namespace was last reset):

- ``ids``: execute requests carry the cell id in their metadata, as JupyterLab sends them;
- ``noids``: nbclient's ``NotebookClient.execute_cell`` (as papermill and ``nbtrack run``
  drive a kernel): no cell ids, history is matched to cells by source.

The notebook file is written (as saved by the person) before the tracked cell runs, and the
kernel finds it through ``JPY_SESSION_NAME``. Each case's report is read back from the store.
The labels are checked against what was done: the notebook, as it reads at the end, is run
top to bottom in a fresh namespace (in this process, no nbtrack involved), and a case has
expected findings exactly when the tracked cell's result differs from that clean run's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from hidden_corpus import CASES, NOTEBOOKS, Case
from nb_kernel import Kernel, kernel_env

MODES = ("ids", "noids")


class LiveNotebook:
    """The notebook as the person sees it while the case is played (edits, inserts, deletes, moves)."""

    def __init__(self, name: str, mode: str, case: str) -> None:
        self.cells = [[key, kind, source] for key, kind, source in NOTEBOOKS[name].cells]
        header = f"%%track experiment=corpus-{mode} name={case} params=result\n"
        self.edit("tracked", header + self.source("tracked").split("\n", 1)[1])

    def _at(self, key: str) -> int:
        return next(i for i, cell in enumerate(self.cells) if cell[0] == key)

    def source(self, key: str) -> str:
        return self.cells[self._at(key)][2]

    def index(self, key: str) -> int:
        return self._at(key)

    def edit(self, key: str, source: str) -> None:
        self.cells[self._at(key)][2] = source

    def delete(self, key: str) -> None:
        del self.cells[self._at(key)]

    def insert(self, key: str, after: str, source: str) -> None:
        self.cells.insert(self._at(after) + 1, [key, "code", source])

    def move(self, key: str, after: str) -> None:
        cell = self.cells.pop(self._at(key))
        self.cells.insert(self._at(after) + 1, cell)

    def code_above(self, key: str) -> list[str]:
        return [source for _, kind, source in self.cells[:self._at(key)] if kind == "code"]

    def write(self, path: Path) -> None:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
        nb.cells = [makers[kind](source, id=key) for key, kind, source in self.cells]
        temporary = path.with_suffix(".tmp")
        nbformat.write(nb, str(temporary))
        os.replace(temporary, path)  # a new file, as editors save


class LabDriver:
    """Execute requests with the cell id in their metadata, as JupyterLab sends them."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.kernel = Kernel(workdir, env)

    def run(self, source: str, cell_id: str) -> int | None:
        return self.kernel.execute(source, cell_id, timeout=120).execution_count

    def close(self) -> None:
        self.kernel.shutdown()


class NbclientDriver:
    """nbclient executing cells one by one, in the scripted order (no cell ids)."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        from nbclient import NotebookClient

        self.client = NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3", allow_errors=True,
                                     timeout=120, resources={"metadata": {"path": str(workdir)}})
        self.stack = contextlib.ExitStack()
        self.stack.enter_context(self.client.setup_kernel(env=env))

    def run(self, source: str, cell_id: str) -> int | None:
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.execute_cell(cell, 0)
        return cell.get("execution_count")

    def close(self) -> None:
        self.stack.close()


@dataclass
class Outcome:
    """One case played in one mode: what the report said against what was done."""

    case: Case
    mode: str
    expected: set[tuple] = field(default_factory=set)
    reported: list[tuple] = field(default_factory=list)  # ranked
    reasons: list[str] = field(default_factory=list)
    result: Any = None  # the tracked cell's result in the kernel
    clean: Any = None  # its result in a top-to-bottom run of the notebook as it reads at the end

    @property
    def true_positives(self) -> int:
        return len(set(self.reported) & self.expected)

    @property
    def differs(self) -> bool:
        return self.result != self.clean

    @property
    def labels_agree(self) -> bool:
        return bool(self.expected) == self.differs


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def clean_result(sources: list[str], tracked: str) -> Any:
    """``result`` after running ``sources`` then ``tracked`` top to bottom in a fresh namespace."""
    from nbtrack.notebook.cellparams import code_body

    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for source in [*sources, tracked]:
                code = "\n".join(line for line in code_body(source).split("\n") if not line.startswith(("%", "!")))
                exec(compile(code, "<cell>", "exec"), namespace)
        return _plain(namespace["result"])
    except Exception:
        return "error"


def play(driver: Any, path: Path, case: Case, mode: str) -> tuple[LiveNotebook, dict[str, int]]:
    """Play ``case``: its steps, then the tracked cell. Returns the notebook as it reads at the
    end and the execution count of each cell key and scratch label (``@name``)."""
    notebook = LiveNotebook(case.notebook, mode, case.name)
    counts: dict[str, int] = {}
    driver.run("%reset -f", "reset")
    for step in case.steps:
        operation, key = step[0], step[1]
        if operation == "run":
            counts["@" + key] = driver.run(notebook.source(key), key)
        elif operation == "scratch":
            counts["@" + key] = driver.run(step[2], f"scratch-{key}")
        elif operation == "edit":
            notebook.edit(key, step[2])
        elif operation == "delete":
            notebook.delete(key)
        elif operation == "insert":
            notebook.insert(key, step[2], step[3])
        elif operation == "move":
            notebook.move(key, step[2])
    notebook.write(path)
    driver.run(notebook.source("tracked"), "tracked")
    driver.run("import nbtrack as _nbtrack\n_nbtrack.flush()", "flush")
    return notebook, counts


def score(case: Case, mode: str, notebook: LiveNotebook, counts: dict[str, int], run: Any) -> Outcome:
    outcome = Outcome(case, mode)
    for kind, key in case.expect:
        if kind == "deleted":
            outcome.expected.add((kind, f"In [{counts[key]}]"))
        else:
            outcome.expected.add((kind, notebook.index(key)))
    report = (run.document("hidden_state") or {}) if run is not None else {}
    for finding in report.get("findings", []):
        where = f"In [{finding['execution_count']}]" if finding["kind"] == "deleted" else finding["cell"]
        outcome.reported.append((finding["kind"], where))
    outcome.reasons = list(report.get("warnings", []))
    outcome.result = "error" if run is None or run.status != "FINISHED" else _plain(run.params.get("result"))
    outcome.clean = clean_result(notebook.code_above("tracked"), notebook.source("tracked"))
    return outcome


def replay(mode: str, workdir: Path, store_uri: str, cases: list[Case] | None = None) -> list[Outcome]:
    """Play every case in one kernel driven the ``mode`` way; the outcomes, in corpus order."""
    import nbtrack

    cases = CASES if cases is None else cases
    path = workdir / f"corpus-{mode}.ipynb"
    env = kernel_env(store_uri, JPY_SESSION_NAME=str(path))
    driver = LabDriver(workdir, env) if mode == "ids" else NbclientDriver(workdir, env)
    played = []
    try:
        driver.run("%load_ext nbtrack", "load")
        for case in cases:
            played.append((case, *play(driver, path, case, mode)))
    finally:
        driver.close()
    nbtrack.set_store(store_uri)
    frame = nbtrack.runs(experiment=f"corpus-{mode}", order_by="start_time ASC")
    latest = dict(zip(frame["name"], frame["run_id"]))
    return [score(case, mode, notebook, counts, nbtrack.get_run(latest[case.name]) if case.name in latest else None)
            for case, notebook, counts in played]


@dataclass
class Scores:
    mode: str
    cases: int
    precision: float
    recall: float
    top_correct: float  # cases with findings whose first (summary-line) finding is a true one
    false_alarms: int  # clean cases with any finding
    label_disagreements: list[str]


def summarize(mode: str, outcomes: list[Outcome]) -> Scores:
    reported = sum(len(set(o.reported)) for o in outcomes)
    expected = sum(len(o.expected) for o in outcomes)
    hits = sum(o.true_positives for o in outcomes)
    with_findings = [o for o in outcomes if o.expected]
    top = sum(1 for o in with_findings if o.reported and o.reported[0] in o.expected)
    return Scores(mode, len(outcomes), hits / reported if reported else 1.0, hits / expected if expected else 1.0,
                  top / len(with_findings) if with_findings else 1.0,
                  sum(1 for o in outcomes if not o.expected and o.reported),
                  [o.case.name for o in outcomes if not o.labels_agree])


def misses(outcomes: list[Outcome]) -> list[str]:
    """One line per case where the report and the labels differ."""
    lines = []
    for o in outcomes:
        wrong, missed = set(o.reported) - o.expected, o.expected - set(o.reported)
        if wrong or missed:
            lines.append(f"{o.mode} {o.case.name}: false {sorted(wrong, key=str)} missed {sorted(missed, key=str)}"
                         f" | {o.reasons}")
    return lines
