"""DashboardState and the Dashboard widget driven through their Python state on a real SQLite store."""

from __future__ import annotations

import re
import time

import pytest
from dashboard_helpers import EVIL, SNAPSHOT, make_runs

import nbtrack
from nbtrack.dashboards.state import DashboardState
from nbtrack.dashboards.widget import Dashboard, dashboard


def names(state) -> list[str]:
    return [row["name"] for row in state.rows]


def act(board, kind: str, **message) -> None:
    """What the table's frontend sends when the user does something."""
    board.table.receive({"type": kind, **message})


def shown(board, column: str) -> list:
    """A column of the visible page as the browser gets it."""
    return board.table.column(column)


def test_dashboard_opens_on_the_newest_runs(runs12):
    board = dashboard("exp")
    assert isinstance(board, Dashboard)
    assert board.state.total == 12
    assert names(board.state)[:3] == ["run-11", "run-10", "run-09"]
    assert board.table.visible_run_ids() == [r["run_id"] for r in board.state.rows]
    assert board.table.view["page"] == {"index": 0, "size": 25, "count": 1, "total": 12,
                                        "sizes": [10, 25, 50, 100, 250]}
    assert shown(board, "name")[:3] == ["run-11", "run-10", "run-09"]
    board.close()


def test_default_columns_are_varying_params_and_all_metrics(runs12):
    state = DashboardState("exp")
    assert state.columns == ["params.lr", "params.model", "metrics.acc", "metrics.val_loss"]
    assert "params.seed" in state.available and "tags.stage" in state.available


def test_setting_the_filter_changes_the_rows(runs12):
    board = dashboard("exp")
    act(board, "filter", text="params.model = 'rf' and metrics.acc > 0.65")
    assert board.state.filter_error == ""
    assert names(board.state) == ["run-10", "run-08", "run-06"]
    assert board.state.total == 3
    assert shown(board, "name") == ["run-10", "run-08", "run-06"] and shown(board, "params.lr") == [0.01, 0.001, 0.1]
    assert board.table.view["filter"]["text"] == "params.model = 'rf' and metrics.acc > 0.65"
    # model no longer varies across the shown runs, so it is no longer a default column
    assert "params.model" not in board.state.columns and "params.lr" in board.state.columns


def test_a_bad_filter_shows_its_error_and_keeps_the_rows(runs12):
    board = dashboard("exp", filter="params.model = 'lin'")
    before = list(board.state.rows)
    bad = "params.model = 'lin' and metrics.acc >> 2"
    act(board, "filter", text=bad)
    position = bad.index(">>") + 1  # the second '>' is where a value was expected
    assert board.state.rows == before and board.state.total == 6
    assert board.state.filter_error_position == position
    assert f"at position {position}" in board.table.view["filter"]["error"]
    assert board.table.view["filter"]["text"] == bad and len(shown(board, "name")) == 6  # the last good rows
    caret_line = board.state.filter_error.splitlines()[-1]
    assert caret_line.index("^") - 2 == position
    # statuses are a separate argument: the position points into the user's text
    act(board, "statuses", shown=["RUNNING", "FINISHED", "KILLED"])
    assert board.state.filter_error_position == position
    act(board, "filter", text="  " + bad)  # leading blanks count in the position
    assert board.state.filter_error_position == position + 2
    act(board, "filter", text="params.model = 'lin'")
    assert board.state.filter_error == "" and board.table.view["filter"]["error"] == ""


def test_a_filter_on_a_key_no_run_has_says_so_and_suggests_the_closest(runs12):
    board = dashboard("exp")
    act(board, "filter", text="metrics.acuracy > 0.8 and params.modle = 'rf'")
    assert board.state.total == 0 and board.state.filter_error == ""
    unknown = board.table.view["filter"]["unknown"]
    assert [(u["field"], u["suggestion"]) for u in unknown] == [("metrics.acuracy", "metrics.acc"),
                                                                 ("params.modle", "params.model")]
    assert unknown[0]["message"] == "no run has metrics.acuracy; did you mean metrics.acc?"
    act(board, "use_suggestion", field="metrics.acuracy", suggestion="metrics.acc")
    assert board.state.filter_text == "metrics.acc > 0.8 and params.modle = 'rf'"
    act(board, "use_suggestion", field="params.modle", suggestion="params.model")
    assert board.state.filter_text == "metrics.acc > 0.8 and params.model = 'rf'"
    assert board.table.view["filter"]["unknown"] == [] and board.state.total == 0  # rf runs stop at 0.79
    act(board, "filter", text="metrics.val_loss < 0.6 and tags.nothing_like_it = 'x'")
    assert [(u["field"], u["suggestion"]) for u in board.state.unknown_keys] == [("tags.nothing_like_it", None)]
    act(board, "filter", text="params.acc > 0.8")  # a metric asked for as a param
    assert [u["suggestion"] for u in board.state.unknown_keys] == ["metrics.acc"]


def test_clicking_a_header_sorts_both_ways(runs12):
    board = dashboard("exp")
    act(board, "sort", column="metrics.val_loss")  # lower is better: best first = ascending
    assert board.state.sort_by == "metrics.val_loss" and not board.state.sort_desc
    assert names(board.state)[0] == "run-11"
    assert board.table.view["sort"] == {"column": "metrics.val_loss", "desc": False}
    act(board, "sort", column="metrics.val_loss")
    assert board.state.sort_desc and shown(board, "name")[0] == "run-00"
    act(board, "sort", column="name")
    assert shown(board, "name")[:2] == ["run-00", "run-01"]
    act(board, "sort", column="params.lr")
    assert set(shown(board, "params.lr")[:4]) == {0.001}


def test_paging_shows_one_page_at_a_time(store):
    make_runs(30)
    board = dashboard("exp")
    act(board, "page_size", size=10)
    assert len(board.state.rows) == 10 and board.state.page_count == 3
    assert board.table.view["page"]["index"] == 0 and board.table.view["page"]["count"] == 3
    first = board.table.visible_run_ids()
    act(board, "page", index=1)
    assert board.state.page == 1 and not set(first) & set(board.table.visible_run_ids())
    act(board, "page", index=7)  # past the end: the last page
    assert board.table.view["page"]["index"] == 2 and len(board.table.visible_run_ids()) == 10
    act(board, "filter", text="params.model = 'rf'")
    assert board.state.page == 0  # a new filter starts at the first page


def test_selecting_runs_changes_the_plotted_traces(runs12):
    board = dashboard("exp")
    ids = board.table.visible_run_ids()
    assert board.plots.plotted_run_ids() == ids  # nothing selected: the page
    board.table.selected = [ids[3]]  # the frontend's tick boxes write the synced trait
    board.table.selected = [ids[3], ids[5]]
    assert board.state.selected == [ids[3], ids[5]]
    assert board.plots.plotted_run_ids() == [ids[3], ids[5]]
    traces = board.plots.figure.data
    assert [t.customdata[0] for t in traces] == [ids[3], ids[5]] and all(len(t.x) == 3 for t in traces)
    board.plots.kind.value = "bar"  # the page's bars, the selected ones opaque
    assert board.plots.figure.data[0].type == "bar" and board.plots.plotted_run_ids() == ids
    assert board.plots.selected_on_plot() == [ids[3], ids[5]]
    board.table.selected = [ids[5]]
    assert board.plots.selected_on_plot() == [ids[5]]
    board.plots.kind.value = "history"
    assert board.plots.plotted_run_ids() == [ids[5]]
    board.table.selected = []
    assert board.plots.plotted_run_ids() == ids


def test_selection_survives_paging_and_plots_other_pages(store):
    make_runs(30)
    board = dashboard("exp")
    act(board, "page_size", size=10)
    first = board.table.visible_run_ids()[0]
    board.table.selected = [first]
    act(board, "page", index=1)
    second = board.table.visible_run_ids()[0]
    board.table.selected = [first, second]
    assert board.state.selected == [first, second] and board.plots.plotted_run_ids()[0] == first
    act(board, "filter", text="params.model = 'rf'")
    assert board.table.selected == [first, second]  # a filter keeps the selection
    board.state.selected = [second]  # a plot's lasso writes the state; the table follows
    assert board.table.selected == [second]


def test_scatter_and_parallel_plots(runs12):
    board = dashboard("exp")
    board.plots.kind.value = "scatter"
    board.plots.scatter_x.value, board.plots.scatter_y.value = "params.lr", "metrics.acc"
    board.plots.scatter_color.value = "params.model"
    assert sorted(t.name for t in board.plots.figure.data) == ["lin", "rf"]
    board.plots.kind.value = "parallel"
    assert [d.label for d in board.plots.figure.data[0].dimensions] == ["lr", "model", "acc"]
    board.plots.x_axis.value = "time"
    board.plots.kind.value = "history"
    assert str(board.plots.figure.data[0].x[0]).startswith("20")


def test_best_values_are_highlighted_per_direction(runs12):
    board = dashboard("exp")
    best = board.table.view["best"]
    assert best == {"metrics.acc": pytest.approx(0.795), "metrics.val_loss": pytest.approx(0.43)}  # both run-11's
    assert shown(board, "metrics.acc")[0] == best["metrics.acc"] and shown(board, "name")[0] == "run-11"
    assert board.table.view["directions"] == {"acc": "max", "val_loss": "min"}
    act(board, "direction", metric="val_loss", direction="max")
    assert board.state.directions == {"val_loss": "max"}
    assert board.table.view["best"]["metrics.val_loss"] == pytest.approx(0.98)  # run-00 ends at 0.98


def test_status_filter_and_colours(store):
    make_runs(3)
    failed = nbtrack.track("exp", name="broken")
    failed.fail(RuntimeError("boom"))
    board = dashboard("exp")
    assert shown(board, "status")[0] == "FAILED"
    act(board, "statuses", shown=["RUNNING", "FAILED", "KILLED"])
    assert names(board.state) == ["broken"] and board.table.view["statuses"]["shown"] == ["RUNNING", "FAILED",
                                                                                          "KILLED"]
    act(board, "statuses", shown=["RUNNING", "FINISHED", "KILLED"])
    assert "broken" not in names(board.state) and board.state.total == 3


def test_column_chooser(runs12):
    board = dashboard("exp")
    act(board, "columns", chosen=["params.seed", "tags.stage"])
    assert board.state.columns == ["params.seed", "tags.stage"] and not board.state.columns_auto
    assert [c["key"] for c in board.table.view["columns"]] == ["run_id", "name", "status", "start_time", "duration",
                                                                "params.seed", "tags.stage"]
    assert shown(board, "tags.stage")[:4] == ["dev", "dev", "dev", "prod"]
    available = [c["key"] for c in board.table.view["available"]]
    assert "tags.stage" in available and "end_time" in available
    board.table.hidden_columns = ["start_time"]  # the header's ×: the frontend hides it, the data stays
    act(board, "columns_default")
    assert board.state.columns_auto and "metrics.acc" in board.table.view["rows"]
    assert board.table.hidden_columns == []


def test_experiment_picker_takes_several(store):
    make_runs(2, "alpha")
    make_runs(3, "beta")
    make_runs(4, "gamma")
    board = dashboard()
    assert board.state.total == 9 and board.table.view["experiments"] == {"options": ["alpha", "beta", "gamma"],
                                                                          "chosen": []}
    act(board, "experiments", chosen=["alpha", "gamma"])
    assert board.state.total == 6 and {r["experiment"] for r in board.state.rows} == {"alpha", "gamma"}
    make_runs(1, "delta")
    act(board, "refresh")
    assert "delta" in board.table.view["experiments"]["options"]


def test_everything_from_a_run_is_escaped(store):
    with nbtrack.track("exp", name=EVIL, params={"model": EVIL}, tags={"who": EVIL}, notes=EVIL) as run:
        nbtrack.log_metric("acc", 0.5)
        nbtrack.log_artifact(SNAPSHOT.replace("fit", EVIL), name="notebook.py")
    with nbtrack.track("exp", name="plain", params={"model": "rf"}) as other:
        nbtrack.log_metric("acc", 0.7)
    board = dashboard("exp")
    act(board, "columns", chosen=["params.model", "tags.who", "metrics.acc"])
    # the table sends run strings as data (the browser sets them as text); its fallback HTML escapes them
    assert shown(board, "name")[::-1] == [EVIL, "plain"] and EVIL in shown(board, "tags.who")
    html = board._repr_mimebundle_()["text/html"]
    act(board, "open", run_id=run.run_id)
    html += board.detail.html.value
    compare = board.compare
    board.table.selected = [run.run_id, other.run_id]
    board.tabs.selected_index = 2  # the compare tab draws when shown
    html += compare.table.value
    for fragment in re.findall(r"<[^>]*>", html):
        assert not fragment.lower().startswith("<img"), fragment
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 5
    plotted = board.plots.figure.to_json()
    assert EVIL not in plotted and "&lt;img src=x onerror=alert(1)&gt;" in plotted


def test_run_detail_shows_everything_and_highlights_the_tracked_cell(store, tmp_path):
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    with nbtrack.track("exp", name="detailed", params={"lr": 0.1}, tags={"stage": "prod"}) as run:
        nbtrack.log_metric("acc", 0.9)
        nbtrack.log_note("tried a smaller lr")
        nbtrack.log_artifact(png, name="plots/curve.png")
        nbtrack.log_artifact(SNAPSHOT.format(lr=0.1), name="notebook.py")
        import plotly.graph_objects as go
        nbtrack.log_artifact(go.Figure(go.Bar(y=[1, 2])), name="bars.plotly.json")
        run.set_document("notebook", {"cell_index": 1, "cell_id": "c2"})
        run.set_document("hidden_state", {"undefined_names": ["df_old"], "stale": True})
    board = dashboard("exp")
    act(board, "open", run_id=run.run_id)
    assert board.tabs.selected_index == 1
    html = board.detail.html.value
    assert "tried a smaller lr" in html and "stage" in html and "prod" in html
    assert 'src="data:image/png;base64,' in html
    assert "df_old" in html
    tracked = re.findall(r'<pre class="tracked" data-cell-index="(\d+)" data-tracked="true">([^<]*)', html)
    assert len(tracked) == 1 and tracked[0][0] == "1" and "fit(lr=0.1)" in tracked[0][1]
    figures = board.detail.figures.outputs
    assert len(figures) == 1 and figures[0]["data"]["application/vnd.plotly.v1+json"]["data"][0]["type"] == "bar"


def test_compare_two_runs_side_by_side_with_a_notebook_diff(store):
    records = []
    for lr in (0.1, 0.01):
        with nbtrack.track("exp", name=f"lr={lr}", params={"lr": lr, "seed": 1}) as run:
            nbtrack.log_metric("val_loss", lr * 3)
            nbtrack.log_artifact(SNAPSHOT.format(lr=lr), name="notebook.py")
        records.append(run.run_id)
    board = dashboard("exp")
    board.table.selected = records
    board.tabs.selected_index = 2  # the compare tab draws when shown
    table = board.compare.table.value
    assert '<tr class="nbtrack-differs" data-key="params.lr">' in table
    assert '<tr data-key="params.seed">' in table
    assert '<span class="nbtrack-best">0.03</span>' in table  # lower val_loss wins
    diff = board.compare.diff.value
    assert '<div class="del">-fit(lr=0.1)</div>' in diff and '<div class="add">+fit(lr=0.01)</div>' in diff
    assert "kernelspec" not in diff  # only changed hunks with their context


def test_actions_tag_rename_note_delete_restore(runs12):
    board = dashboard("exp")
    run_id = board.table.visible_run_ids()[0]
    act(board, "open", run_id=run_id)
    board.detail.tag_text.value = "reviewed=yes, owner=ana"
    board.detail.tag_button.click()
    assert nbtrack.get_run(run_id).tags["owner"] == "ana" and not board.state.message_is_error
    board.detail.name_text.value = "best-so-far"
    board.detail.rename_button.click()
    assert nbtrack.get_run(run_id).name == "best-so-far" and names(board.state)[0] == "best-so-far"
    board.detail.note_text.value = "ship it"
    board.detail.note_button.click()
    assert "ship it" in nbtrack.get_run(run_id).notes and "ship it" in board.detail.html.value
    board.detail.delete_button.click()
    assert run_id not in board.table.visible_run_ids() and board.state.total == 11
    act(board, "option", name="include_deleted", value=True)
    assert run_id in board.table.visible_run_ids() and board.table.view["include_deleted"]
    assert [i for i, d in zip(board.table.visible_run_ids(), shown(board, "deleted")) if d] == [run_id]
    board.detail.restore_button.click()
    act(board, "option", name="include_deleted", value=False)
    assert run_id in board.table.visible_run_ids() and board.state.total == 12


def test_action_errors_show_inline_and_the_widget_keeps_working(runs12):
    board = dashboard("exp")
    run_id = board.table.visible_run_ids()[0]
    act(board, "open", run_id=run_id)
    board.detail.tag_text.value = "no equals sign"
    board.detail.tag_button.click()
    assert board.state.message_is_error and "key=value" in board.table.view["message"]["text"]
    board.state.detail_run_id = "ffffffffffff"  # a run that does not exist
    assert "RunNotFoundError" in board.detail.html.value
    board.detail.rename_button.click()  # acting on it fails inline, not with an exception
    board.detail.name_text.value = "x"
    board.detail.rename_button.click()
    assert board.table.view["message"] == {"text": board.state.message, "error": True}
    assert "RunNotFoundError" in board.state.message
    board.detail.checkout_button.click()
    assert board.state.message_is_error
    act(board, "sort", column="no_such_column")  # a bad message from the frontend: said inline, not raised
    assert "cannot sort by 'no_such_column'" in board.table.view["message"]["text"]
    act(board, "filter", text="params.model = 'rf'")
    assert board.state.total == 6


def test_auto_refresh_while_a_run_is_running(store):
    make_runs(2)
    live = nbtrack.track("exp", name="live")
    nbtrack.log_metric("acc", 0.1)
    board = dashboard("exp")
    board.state.refresh_interval = 0.5
    try:
        assert board.state.running == 1 and board.state.auto_refreshing
        assert board.table.view["running"] == 1 and board.table.view["auto_refresh"]
        nbtrack.log_metric("acc", 0.99)
        live.end()

        def refreshed() -> bool:  # the refresh thread writes these; wait for what the user would see
            return "FINISHED" in shown(board, "status") and board.table.view["running"] == 0

        deadline = time.time() + 10
        while time.time() < deadline and not refreshed():
            time.sleep(0.1)
        assert refreshed()
        assert [r["status"] for r in board.state.rows if r["name"] == "live"] == ["FINISHED"]
        assert shown(board, "metrics.acc")[shown(board, "name").index("live")] == 0.99
        deadline = time.time() + 5
        while time.time() < deadline and board.state.auto_refreshing:
            time.sleep(0.1)
        assert not board.state.auto_refreshing
    finally:
        board.close()


def test_refresh_button_picks_up_new_runs(runs12):
    board = dashboard("exp")
    make_runs(1, "exp")
    assert board.state.total == 12
    act(board, "refresh")
    assert board.state.total == 13 and board.table.view["page"]["total"] == 13


def test_checkout_writes_the_runs_notebook(store, tmp_path):
    with nbtrack.track("exp", name="snap") as run:
        nbtrack.log_metric("acc", 0.5)
        nbtrack.log_artifact(SNAPSHOT.format(lr=0.3), name="notebook.py")
        run.set_document("notebook", {"artifact": "notebook.py", "path": "train.ipynb", "cell_index": 1,
                                      "cell_ids": ["a1", "b2", "c3"]})
    board = dashboard("exp")
    act(board, "open", run_id=run.run_id)
    target = tmp_path / "checked-out.ipynb"
    board.detail.checkout_path.value = str(target)
    board.detail.checkout_button.click()
    assert not board.state.message_is_error, board.state.message
    assert target.exists() and "fit(lr=0.3)" in target.read_text()
    assert str(target) in board.table.view["message"]["text"]


def test_an_initial_bad_filter_is_shown_and_can_be_fixed(runs12):
    board = dashboard("exp", filter="metrics.acc >")
    assert board.state.rows == [] and "position 13" in board.table.view["filter"]["error"]
    assert board.table.view["filter"]["text"] == "metrics.acc >"
    act(board, "filter", text="metrics.acc > 0")
    assert board.state.total == 12 and board.table.view["filter"]["error"] == ""


def test_an_empty_store_opens_with_a_hint(store):
    board = dashboard()
    assert board.state.total == 0 and board.table.visible_run_ids() == []
    assert board.table.view["page"]["total"] == 0 and board.table.view["experiments"]["options"] == []
    assert board.plots.figure is not None  # an empty figure, not an error
    assert not board.state.message_is_error


def test_close_closes_every_widget_and_stops_refreshing(store):
    make_runs(2)
    live = nbtrack.track("exp", name="live")
    board = dashboard("exp")
    assert board.state.auto_refreshing
    widgets = [board.table, board.tabs, board.plots.output, board.detail.tag_button]
    assert all(widget.comm is not None for widget in widgets)
    board.close()
    assert all(widget.comm is None for widget in widgets) and board.comm is None
    deadline = time.time() + 10
    while time.time() < deadline and board.state.auto_refreshing:
        time.sleep(0.1)
    assert not board.state.auto_refreshing
    live.end()
