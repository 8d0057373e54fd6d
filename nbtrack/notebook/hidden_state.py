"""Hidden-state report: where the values a tracked cell used differ from what running the
notebook top to bottom, as it reads now, would have given them, and why.

Method (pure functions over plain data, cheap to test):

1. Each execution in the kernel's history (since the last ``%reset``) is matched to a cell
   (:mod:`.cellmatch`: cell id, else the same source, else a similar one).
2. Both histories are replayed over names (:mod:`.cellflow`): the kernel's, in the order it
   ran, and the notebook's code cells above the tracked one, in order, as they read now.
   A name's *version* stands for its value: the code that made it and the versions of the
   inputs that flowed into it (an import is the same whichever cell runs it).
3. For each name the tracked cell reads, differing versions are explained by walking back
   to the cause: a cell edited after it ran, a cell above never run, code no longer in the
   notebook, a value from a cell below its reader, a cell run before a cell it depends on
   was re-run (stale), a cell whose re-runs change a value they read, or a definer re-run
   after a later one.

The report keeps informational lists (``out_of_order``, ``modified``, ``never_executed``,
``deleted``: what differs from the notebook, whether it matters or not) and the
``findings`` that can change what the tracked cell computed, ranked most likely cause
first, each with a ``reason`` a person can act on. ``warnings`` are those reasons in order,
``matters`` is True when there is at least one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .cellflow import Binding, CellFlow, cell_flow, expand
from .cellmatch import match_history, normalized

VERSION = 2
# within the same depth, the causes people most often miss first
_KIND_ORDER = ("edited", "stale", "deleted", "rerun", "order", "later", "never_run")


@dataclass(frozen=True)
class Cell:
    """A notebook cell as the snapshot has it."""

    index: int
    cell_type: str
    source: str
    id: str | None = None


@dataclass(frozen=True)
class Execution:
    """One code cell execution in this kernel (``failed_line``: the line of the cell it raised at)."""

    execution_count: int
    source: str
    cell_id: str | None = None
    failed_line: int | None = None


@dataclass(frozen=True)
class _Value:
    version: int
    step: int  # history position (the kernel) or notebook index (the notebook order)
    binding: Binding
    others: tuple = ()  # the versions of the inputs it was made from, the name's own previous value excepted


@dataclass
class _Trace:
    """A replay: what each step read, and the namespace at the end."""

    reads: dict[int, dict[str, _Value | None]] = field(default_factory=dict)
    namespace: dict[str, _Value] = field(default_factory=dict)


def _deferred_in(values: dict[str, _Value | None]):
    def lookup(name: str) -> frozenset[str]:
        value = values.get(name)
        return value.binding.deferred if value is not None else frozenset()
    return lookup


def _version(value: _Value | None) -> int:
    return value.version if value is not None else 0


def _replay(steps: Iterable[tuple[int, CellFlow]], trace: _Trace | None = None) -> _Trace:
    """Replay ``steps`` (position, flow), continuing ``trace`` if given."""
    trace = _Trace() if trace is None else trace
    namespace = trace.namespace
    for step, flow in steps:
        names = expand(flow.inputs, _deferred_in(namespace))
        seen = {name: namespace.get(name) for name in names}
        trace.reads[step] = seen
        lookup = _deferred_in(seen)
        for name, binding in flow.binding_items:
            previous = namespace.get(name)
            if binding.kind == "deleted":
                namespace.pop(name, None)
                continue
            if binding.update and previous is not None and previous.binding.kind == "import":
                continue  # os.remove(path) does not change the module os
            if binding.kind == "import":
                namespace[name] = _Value(hash(("import", binding.code)), step, binding)
                continue
            inputs = tuple(sorted((n, _version(seen.get(n))) for n in expand(binding.inputs, lookup)))
            others = tuple(pair for pair in inputs if pair[0] != name)
            if binding.update and binding.idempotent and name in binding.inputs and previous is not None and \
                    previous.binding.code == binding.code and previous.others == others:
                continue  # the same idempotent change again (config['lr'] = 0.05 twice): the value is unchanged
            namespace[name] = _Value(hash((binding.kind, binding.code, inputs)), step, binding, others)
    return trace


@dataclass
class _Finding:
    kind: str
    cell: int | None
    position: int | None  # history position of the execution it is about
    depth: int
    names: dict[str, None] = field(default_factory=dict)
    other: int | None = None  # the other cell (stale: the re-run cell; order: the later definer; later: the reader)
    other_position: int | None = None


_memo: dict[str, tuple[tuple, _Trace]] = {}  # the last replays (a tracked cell per kernel at a time)


def _history_trace(history: list[Execution], flows: list[CellFlow]) -> _Trace:
    """The replay of the kernel's history, continuing the last one when this history extends it
    (the history only grows between tracked cells, so each cell replays what ran since)."""
    key = tuple((e.execution_count, e.source, e.failed_line) for e in history)
    cached = _memo.get("history")
    if cached is not None and len(cached[0]) <= len(key) and key[:len(cached[0])] == cached[0]:
        start = len(cached[0])
        trace = _replay(((p, flows[p]) for p in range(start, len(flows))),
                        _Trace(dict(cached[1].reads), dict(cached[1].namespace)))
    else:
        trace = _replay(enumerate(flows))
    _memo["history"] = (key, trace)
    return trace


def _notebook_trace(above: list[Cell]) -> _Trace:
    """The replay of the notebook's code cells in order (the same notebook: the same replay)."""
    key = tuple((cell.index, cell.source) for cell in above)
    cached = _memo.get("notebook")
    if cached is not None and cached[0] == key:
        return cached[1]
    trace = _replay((cell.index, cell_flow(cell.source)) for cell in above)
    _memo["notebook"] = (key, trace)
    return trace


class _Explainer:
    """Walks from a differing name back to its cause (see the module docstring)."""

    def __init__(self, cells: list[Cell], history: list[Execution], tracked_index: int | None, limit: int) -> None:
        self.cells = {cell.index: cell for cell in cells}
        self.history = history
        self.tracked_index = tracked_index
        self.limit = limit
        self.matches = match_history(cells, history)
        self.cell_of = [match.index for match in self.matches]
        self.runs: dict[int, list[int]] = {}
        for position, index in enumerate(self.cell_of):
            if index is not None:
                self.runs.setdefault(index, []).append(position)
        self.flows = [cell_flow(e.source, e.failed_line) for e in history]
        self.actual = _history_trace(history, self.flows)
        self.expected = _notebook_trace([c for c in cells if c.cell_type == "code" and c.index < limit])
        self.findings: dict[tuple, _Finding] = {}
        self._seen: set[tuple] = set()

    def add(self, kind: str, cell: int | None, name: str, depth: int, position: int | None = None,
            other: int | None = None, other_position: int | None = None) -> None:
        key = (kind, cell if cell is not None else ("position", position), other if kind == "later" else None)
        finding = self.findings.get(key)
        if finding is None:
            finding = self.findings[key] = _Finding(kind, cell, position, depth, other=other,
                                                    other_position=other_position)
        finding.depth = min(finding.depth, depth)
        if position is not None and (finding.position is None or position > finding.position):
            finding.position = position
        finding.names.setdefault(name, None)

    def explain(self, name: str, actual: _Value | None, expected: _Value | None, reader: int, depth: int) -> None:
        key = (name, actual.step if actual else None, expected.step if expected else None, reader)
        if key in self._seen or _version(actual) == _version(expected):
            return
        self._seen.add(key)
        if actual is None:  # the kernel lacks a name the notebook's cell sets
            runs = self.runs.get(expected.step)
            if not runs:
                self.add("never_run", expected.step, name, depth)
            else:
                self.add("edited", expected.step, name, depth, runs[-1])
            return
        position, cell = actual.step, self.cell_of[actual.step]
        if cell is None:
            self.add("deleted", None, name, depth, position)
        elif cell == reader:
            self.add("rerun", cell, name, depth, position)
        elif cell > reader:
            self.add("later", cell, name, depth, position, other=reader)
        elif name not in cell_flow(self.cells[cell].source).bound:
            self.add("edited", cell, name, depth, position)
        elif expected is None:
            self.add("edited", cell, name, depth, position)
        elif cell != expected.step:
            self._other_definer(name, position, cell, expected.step, depth)
        elif actual.binding.code != expected.binding.code or actual.binding.kind != expected.binding.kind:
            self.add("edited", cell, name, depth, position)
        else:
            self._inputs_differ(actual, expected, cell, depth)

    def _other_definer(self, name: str, position: int, cell: int, definer: int, depth: int) -> None:
        runs = self.runs.get(definer)
        if not runs:
            self.add("never_run", definer, name, depth)
        elif not any(name in self.flows[p].bound for p in runs):
            self.add("edited", definer, name, depth, runs[-1])
        else:
            self.add("order", cell, name, depth, position, other=definer)

    def _inputs_differ(self, actual: _Value, expected: _Value, cell: int, depth: int) -> None:
        """The same code made the value from other inputs: which ones, and why."""
        reads, wanted = self.actual.reads[actual.step], self.expected.reads.get(cell, {})
        for name in expand(actual.binding.inputs, _deferred_in(reads)):
            if name not in actual.binding.inputs and name not in wanted:
                continue  # read by a function the notebook order does not have there: the function differs
            used, should = reads.get(name), wanted.get(name)
            if _version(used) == _version(should):
                continue
            if used is not None and self.cell_of[used.step] == cell:  # it read its own earlier output
                self.add("rerun", cell, name, depth, actual.step)
                continue
            now = self.actual.namespace.get(name)
            if self._rerun_since(used, now, should, actual.step):
                self.add("stale", cell, name, depth, actual.step, other=self.cell_of[now.step],
                         other_position=now.step)
                self.explain(name, now, should, cell, depth + 1)
            else:
                self.explain(name, used, should, cell, depth + 1)


    def _rerun_since(self, used: _Value | None, now: _Value | None, should: _Value | None, position: int) -> bool:
        """Whether the value a cell used (at ``position``) was replaced since by a run of the
        cell the notebook takes it from (or by the notebook's value): the cell is stale."""
        if used is None or now is None or now.step <= position or _version(now) == _version(used):
            return False
        return _version(now) == _version(should) or (should is not None and self.cell_of[now.step] == should.step)


def _runs_of(explainer: _Explainer, cell: int | None) -> int:
    runs = len(explainer.runs.get(cell, ())) if cell is not None else 0
    return runs + (1 if cell is not None and cell == explainer.tracked_index else 0)


def _names(finding: _Finding) -> str:
    names = list(finding.names)
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _verb(finding: _Finding) -> str:
    return "comes" if len(finding.names) == 1 else "come"


def _reason(finding: _Finding, explainer: _Explainer) -> str:
    history = explainer.history

    def count(position: int | None) -> str:
        return f"In [{history[position].execution_count}]" if position is not None else "In [?]"

    names, kind, cell = _names(finding), finding.kind, finding.cell
    if kind == "edited":
        return f"cell {cell} was edited after it ran ({count(finding.position)}): the kernel's {names} " \
               f"{_verb(finding)} from its old code"
    if kind == "never_run":
        return f"cell {cell} above was never run; in notebook order it sets {names}"
    if kind == "deleted":
        return f"{names} {_verb(finding)} from code no longer in the notebook ({count(finding.position)})"
    if kind == "later":
        if finding.other == explainer.limit:
            return f"{names} {_verb(finding)} from cell {cell} below this one ({count(finding.position)})"
        return f"cell {finding.other} uses {names} from cell {cell} below it ({count(finding.position)})"
    if kind == "stale":
        rerun = f"cell {finding.other} was re-run" if finding.other is not None else \
            "code no longer in the notebook changed it"
        return f"cell {cell} ran ({count(finding.position)}) before {rerun} " \
               f"({count(finding.other_position)}), with old {names}"
    if kind == "rerun":
        return f"cell {cell} ran {_runs_of(explainer, cell)} times; each run changes {names} again"
    return f"{names} {_verb(finding)} from cell {cell} ({count(finding.position)}), run after cell " \
           f"{finding.other}, which sets {'it' if len(finding.names) == 1 else 'them'} later in the notebook"


def _ranked(explainer: _Explainer) -> list[dict[str, Any]]:
    findings = sorted(explainer.findings.values(), key=lambda f: (
        f.depth, _KIND_ORDER.index(f.kind), -(f.position if f.position is not None else -1)))
    out = []
    for finding in findings:
        cell = explainer.cells.get(finding.cell) if finding.cell is not None else None
        count = explainer.history[finding.position].execution_count if finding.position is not None else None
        out.append({"kind": finding.kind, "cell": finding.cell, "cell_id": cell.id if cell else None,
                    "execution_count": count, "names": list(finding.names), "depth": finding.depth,
                    "reason": _reason(finding, explainer)})
    return out


def _ref(cell: Cell, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"index": cell.index, "id": cell.id}
    if count is not None:
        out["execution_count"] = count
    return out


def _overview(explainer: _Explainer, used: set[str]) -> dict[str, Any]:
    """What differs from the notebook, whether it matters to the tracked cell or not."""
    cells, history, limit = explainer.cells, explainer.history, explainer.limit
    last_run = {index: runs[-1] for index, runs in explainer.runs.items()}
    out_of_order = []
    lowest_below = None
    for index in sorted((i for i in last_run if i < limit), reverse=True):
        position = last_run[index]
        if lowest_below is not None and position > lowest_below:
            out_of_order.append(_ref(cells[index], history[position].execution_count))
        lowest_below = position if lowest_below is None else min(lowest_below, position)
    out_of_order.reverse()
    modified = [_ref(cells[index], history[position].execution_count)
                for index, position in sorted(last_run.items())
                if index != explainer.tracked_index
                and normalized(history[position].source) != normalized(cells[index].source)]
    never_executed = [dict(_ref(cell), defines=sorted(cell_flow(cell.source).bound & used))
                      for index, cell in sorted(cells.items())
                      if index < limit and cell.cell_type == "code" and cell.source.strip() and index not in last_run]
    deleted = [history[p].execution_count for p, index in enumerate(explainer.cell_of) if index is None]
    matching: dict[str, int] = {}
    for match in explainer.matches:
        matching[match.how] = matching.get(match.how, 0) + 1
    return {"out_of_order": out_of_order, "modified": modified, "never_executed": never_executed,
            "deleted": deleted, "matching": matching}


def analyze(cells: Iterable[Cell], history: Iterable[Execution], tracked_index: int | None,
            tracked_source: str) -> dict[str, Any]:
    """The hidden-state report for the cell at ``tracked_index`` (None: not in the notebook)
    that ran ``tracked_source``. ``history``: the kernel's executions in order, since its last
    namespace reset, without the tracked execution itself."""
    cells, history = list(cells), list(history)
    limit = tracked_index if tracked_index is not None else len(cells)
    explainer = _Explainer(cells, history, tracked_index, limit)
    tracked = cell_flow(tracked_source)
    actual, expected = explainer.actual.namespace, explainer.expected.namespace
    names = expand(tracked.inputs, _deferred_in(actual))
    names += [n for n in expand(tracked.inputs, _deferred_in(expected)) if n not in names]
    used = [name for name in names if name in actual or name in expected]
    for name in used:
        explainer.explain(name, actual.get(name), expected.get(name), limit, 0)
    findings = _ranked(explainer)
    report: dict[str, Any] = {"version": VERSION, "tracked_cell": tracked_index, "uses": sorted(used)}
    report.update(_overview(explainer, set(used)))
    report.update({"findings": findings, "warnings": [f["reason"] for f in findings], "matters": bool(findings)})
    return report
