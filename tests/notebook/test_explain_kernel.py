""""Why do these runs differ?" on notebook runs in a real kernel: an edit to a cell upstream of
the tracked cell is the top cause; an edit to a cell the tracked cell does not depend on is
not called upstream; the source diff runs from the older run to the newer."""

from __future__ import annotations

from nb_helpers import all_runs, plain, write_notebook

from nbtrack.dashboards.explain import explain

LOAD = "%load_ext nbtrack\nimport nbtrack"
TRACKED = "%%track experiment=why\ndata = make(seed)\nnbtrack.log_metric('score', sum(data))"


def cells(seed: int, note: str) -> list[tuple[str, str, str]]:
    return [("code", "load", LOAD), ("code", "seed", f"seed = {seed}"), ("code", "note", f"note = {note!r}"),
            ("markdown", "md", "# a heading"),
            ("code", "make", "def make(seed):\n    return [seed * i for i in range(5)]"),
            ("code", "fit", TRACKED)]


def test_upstream_cell_edits_rank_first_and_unrelated_edits_do_not(workdir, start_kernel):
    path = write_notebook(workdir / "why.ipynb", cells(1, "a"))
    kernel = start_kernel(JPY_SESSION_NAME=str(path))

    def run(seed: int, note: str, changed: list[str]) -> None:
        write_notebook(path, cells(seed, note))
        sources = {cell_id: source for _, cell_id, source in cells(seed, note)}
        for cell_id in changed + ["fit"]:
            reply = kernel.execute(sources[cell_id], cell_id)
            assert reply.status == "ok", plain(reply.text)

    run(1, "a", ["load", "seed", "note", "make"])
    run(2, "a", ["seed"])  # the data's seed: upstream of the tracked cell
    run(2, "b", ["note"])  # a cell the tracked cell does not read
    first, second, third = all_runs(experiment="why")
    assert (first.metrics["score"], second.metrics["score"]) == (10, 20)

    why = explain(second, first)
    assert [(c.kind, c.what) for c in why.changes] == [("upstream cell", "cell 1 (id seed)")]
    assert "-seed = 1" in why.changes[0].detail and "+seed = 2" in why.changes[0].detail
    assert "score 10 → 20 (better)" in why.summary()

    unrelated = explain(second, third)
    assert [(c.kind, c.what) for c in unrelated.changes] == [("cell above", "cell 2 (id note)")]

    from nbtrack.dashboards.compareview import CompareView
    from nbtrack.dashboards.state import DashboardState

    state = DashboardState("why")
    state.selected = [second.run_id, first.run_id]
    view = CompareView(state)
    assert '<div class="del">-seed = 1</div>' in view.diff.value  # older -> newer: the edit is an addition
    assert '<div class="add">+seed = 2</div>' in view.diff.value
    assert "upstream cell" in view.explanation.value
