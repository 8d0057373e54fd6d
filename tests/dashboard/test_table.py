"""The run table widget (anywidget) driven by the messages its frontend sends, on a real store."""

from __future__ import annotations

import threading
import time

import pytest
from dashboard_helpers import EVIL, make_runs

import nbtrack
from nbtrack.dashboards.state import DRAWN_TIMEOUT
from nbtrack.dashboards.widget import dashboard


def act(board, kind: str, **message) -> None:
    board.table.receive({"type": kind, **message})


def make_nested(parents: int = 3, children: int = 2) -> dict[str, list[str]]:
    """``parents`` runs, each with ``children`` nested runs logged inside it."""
    out = {}
    for p in range(parents):
        with nbtrack.track("sweep", name=f"parent-{p}", params={"grid": p}) as parent:
            kids = []
            for c in range(children):
                with nbtrack.track("sweep", name=f"child-{p}-{c}", params={"lr": 10.0 ** -c}, nested=True) as kid:
                    nbtrack.log_metric("acc", 0.5 + p / 10 + c / 100)
                    kids.append(kid.run_id)
            out[parent.run_id] = kids
    return out


def test_nested_runs_are_grouped_under_their_parent(store):
    families = make_nested()
    with nbtrack.track("sweep", name="loner"):
        pass
    board = dashboard("sweep")
    view = board.table.view
    assert board.state.grouped and view["grouped"]
    assert board.state.total == 4 and view["page"]["total"] == 4  # paging counts top-level runs
    names, depth, nested = view["rows"]["name"], view["rows"]["depth"], view["rows"]["nested"]
    assert names == ["loner", "parent-2", "child-2-1", "child-2-0", "parent-1", "child-1-1", "child-1-0",
                     "parent-0", "child-0-1", "child-0-0"]
    assert depth == [0, 0, 1, 1, 0, 1, 1, 0, 1, 1] and nested[:2] == [0, 2]
    parents = view["rows"]["parent_run_id"]
    first_parent = view["rows"]["run_id"][1]
    assert parents[2:4] == [first_parent, first_parent] and sorted(families[first_parent]) == sorted(
        view["rows"]["run_id"][2:4])
    act(board, "sort", column="name")  # children follow their parent's place, sorted the same way
    assert board.table.column("name")[:4] == ["loner", "parent-0", "child-0-0", "child-0-1"]
    act(board, "page_size", size=2)
    assert view is not board.table.view and board.table.column("name") == ["loner", "parent-0", "child-0-0",
                                                                           "child-0-1"]
    act(board, "filter", text="metrics.acc > 0.65")  # a filter lists the matching runs flat
    assert not board.state.grouped and sorted(board.table.column("name")) == ["child-2-0", "child-2-1"]
    assert board.table.column("depth") == [0, 0]


def test_panels_redraw_once_the_browser_drew_the_rows(runs12):
    board = dashboard("exp")
    redraws = []
    board.state.observe(lambda change: redraws.append(change["new"]), "version")
    act(board, "sort", column="name")  # no browser has spoken: panels follow at once
    assert board.state.version == board.state.loaded and redraws == [board.state.loaded]
    act(board, "ready")  # a browser draws the table
    act(board, "sort", column="metrics.acc")
    loaded = board.state.loaded
    assert board.table.view["loaded"] == loaded and board.state.version == loaded - 1  # the rows go first
    act(board, "drawn", loaded=loaded)
    assert board.state.version == loaded and redraws[-1] == loaded
    act(board, "page_size", size=5)  # a browser that never answers: panels follow after a timeout
    deadline = time.monotonic() + DRAWN_TIMEOUT + 5
    while board.state.version < board.state.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert board.state.version == board.state.loaded
    board.close()


def test_selection_and_hover_are_the_states(runs12):
    board = dashboard("exp")
    ids = board.table.visible_run_ids()
    board.table.selected = [ids[0], ids[2]]
    assert board.state.selected == [ids[0], ids[2]]
    board.state.selected = [ids[1]]
    assert board.table.selected == [ids[1]]
    board.table.hovered = ids[4]
    assert board.state.hovered == ids[4]
    board.state.hovered = ""
    assert board.table.hovered == ""


def test_the_display_carries_an_escaped_static_table_for_frontends_without_widgets(store):
    with nbtrack.track("exp", name=EVIL, params={"model": EVIL}):
        nbtrack.log_metric("acc", 0.5)
    make_runs(2)
    board = dashboard("exp")
    bundle = board._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == board.model_id
    html = bundle["text/html"]
    assert "does not run Jupyter widgets" in html and "3 runs" in html
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count('<tr class="nbtrack-row"') == 3


def test_the_dashboard_selects_with_structured_arguments_and_passes_the_users_filter_as_typed(runs12):
    board = dashboard("exp")
    act(board, "statuses", shown=["FINISHED"])
    act(board, "filter", text="params.model = 'rf'")
    kwargs = board.state.query()
    assert kwargs["statuses"] == ["FINISHED"] and kwargs["filter"] == "params.model = 'rf'"
    assert len(nbtrack.runs(**kwargs)) == board.state.total == 6


def test_rows_come_first_and_the_summary_follows(runs12, monkeypatch):
    from nbtrack.dashboards import summaries

    monkeypatch.setattr(summaries, "SUMMARY_WAIT", 0)  # what a browser gets: rows without waiting
    board = dashboard("exp")
    board.state.wait()
    gate = threading.Event()
    summarize = board.state.queries.summarize

    def held_back(query):  # the real summary, once the test lets it go
        gate.wait(30)
        return summarize(query)

    board.state.queries.summarize = held_back
    act(board, "filter", text="params.model = 'rf'")
    act(board, "filter", text="params.model = 'lin' and metrics.acc > 0.6")  # replaces the first one
    assert board.table.column("name") == ["run-11", "run-09", "run-07", "run-05"]  # the rows, at once
    assert board.state.summarizing and board.table.view["page"]["total"] is None
    loaded = board.state.loaded
    gate.set()
    assert board.state.wait(30)
    assert not board.state.summarizing and board.state.total == 4 and board.table.view["page"]["total"] == 4
    assert board.state.loaded > loaded  # the totals went to the browser in their own push
    assert board.state.best["metrics.acc"] == pytest.approx(0.795)  # the second filter's, not the first's
    board.close()
