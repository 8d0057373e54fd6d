"""The plots panel on a real store: FigureWidget events (the messages plotly's frontend sends
through the widget's traitlets) reach ``state.selected``; zoom re-reads exact points; the
table's hovered run is highlighted; without anywidget the figure is static, with a note."""

from __future__ import annotations

import pytest
from dashboard_helpers import make_runs

import nbtrack
from nbtrack.dashboards.plotview import PlotView
from nbtrack.dashboards.state import DashboardState
from nbtrack.dashboards.widget import dashboard


def picked(event: str, trace_indexes: list[int], point_indexes: list[int]) -> dict:
    """What plotly's frontend sends for a click or a lasso (``_js2py_pointsCallback``)."""
    message = {"event_type": event, "points": {"trace_indexes": trace_indexes, "point_indexes": point_indexes,
                                               "xs": [0] * len(point_indexes), "ys": [0] * len(point_indexes)}}
    if event == "plotly_selected":
        message["selector"] = {"type": "lasso", "selector_state": {"xs": [0, 1, 1], "ys": [0, 0, 1]}}
    return message


def test_lasso_and_click_in_the_scatter_select_runs_in_the_table(runs12):
    board = dashboard("exp")
    plots = board.plots
    plots.kind.value = "scatter"
    plots.scatter_x.value, plots.scatter_y.value, plots.scatter_color.value = "params.lr", "metrics.acc", ""
    widget = plots.widget
    assert widget is not None and widget.data[0].type == "scatter"
    ids = list(widget.data[0].customdata)
    assert len(ids) == 12  # every matching run, not only the selection
    widget._js2py_pointsCallback = picked("plotly_selected", [0, 0, 0], [1, 4, 7])
    assert board.state.selected == [ids[1], ids[4], ids[7]]
    on_page = [r for r in board.table.visible_run_ids() if r in board.state.selected]
    assert on_page and all(r in board.table.selected for r in on_page)  # the tick boxes follow
    assert list(widget.data[0].selectedpoints) == [1, 4, 7]  # faded in place, same widget
    assert plots.widget is widget
    widget._js2py_pointsCallback = picked("plotly_click", [0], [4])  # a click toggles one run
    assert board.state.selected == [ids[1], ids[7]]
    widget._js2py_pointsCallback = picked("plotly_click", [0], [0])
    assert board.state.selected == [ids[1], ids[7], ids[0]]
    # in select mode plotly reports a click as a one-point selection too, before or after it
    widget._js2py_pointsCallback = picked("plotly_selected", [0], [5])
    widget._js2py_pointsCallback = picked("plotly_click", [0], [5])
    assert board.state.selected == [ids[1], ids[7], ids[0], ids[5]]
    widget._js2py_pointsCallback = picked("plotly_click", [0], [6])
    widget._js2py_pointsCallback = picked("plotly_selected", [0], [6])
    assert board.state.selected == [ids[1], ids[7], ids[0], ids[5], ids[6]]
    widget._js2py_pointsCallback = picked("plotly_selected", [0], [])  # plotly redrawing: not a choice
    assert len(board.state.selected) == 5
    # the browser drew the widget with every trace: it stays
    widget._js2py_traceDeltas = {"trace_deltas": [{"uid": t.uid} for t in widget.data], "trace_edit_id": -1}
    assert plots.widget is widget


def test_categorical_scatter_and_bar_selections_cover_every_trace(runs12):
    board = dashboard("exp")
    plots = board.plots
    plots.kind.value = "scatter"
    plots.scatter_x.value, plots.scatter_y.value, plots.scatter_color.value = "params.lr", "metrics.acc", "params.model"
    widget = plots.widget
    assert len(widget.data) == 2
    first, second = (list(t.customdata) for t in widget.data)
    widget._js2py_pointsCallback = picked("plotly_selected", [0, 1], [0, 2])
    assert board.state.selected == [first[0], second[2]]
    plots.kind.value = "bar"
    bars = plots.widget
    page = list(bars.data[0].customdata)
    assert page == board.table.visible_run_ids()
    bars._js2py_pointsCallback = picked("plotly_selected", [0, 0], [2, 3])
    assert board.state.selected == [page[2], page[3]]
    assert plots.selected_on_plot() == [page[2], page[3]]


def test_a_view_drawn_without_the_data_gets_a_fresh_widget(runs12):
    board = dashboard("exp")
    board.plots.wait()  # the first figure is drawn in the background
    widget = board.plots.widget
    traces = len(widget.data)
    assert traces > 1
    widget._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": -1}  # the browser drew it empty
    fresh = board.plots.widget
    assert fresh is not widget and widget.comm is None and len(fresh.data) == traces
    assert board.plots.figure_box.children == (fresh,)
    fresh._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": -1}
    assert board.plots.widget is not fresh  # each new widget is checked once
    checked = board.plots.widget
    checked._js2py_traceDeltas = {"trace_deltas": [{"uid": t.uid} for t in checked.data], "trace_edit_id": -1}
    checked._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": -1}
    assert board.plots.widget is checked


def test_brushing_a_parallel_axis_selects_the_runs_through_it(runs12):
    board = dashboard("exp")
    board.plots.kind.value = "parallel"
    widget = board.plots.widget
    trace = widget.data[0]
    labels = [d.label for d in trace.dimensions]
    lr = labels.index("lr")
    widget._js2py_restyle = {"style_data": {f"dimensions[{lr}].constraintrange": [[0.05, 0.2]]},
                             "style_traces": [0], "source_view_id": "view"}
    frame = nbtrack.runs("exp")
    expected = set(frame[frame["params.lr"] == 0.1]["run_id"])
    assert set(board.state.selected) == expected and len(expected) == 4
    widget._js2py_restyle = {"style_data": {f"dimensions[{lr}].constraintrange": [None]},
                             "style_traces": [0], "source_view_id": "view"}
    assert board.state.selected == []


def test_zoom_rereads_exact_points_and_hover_highlights(store):
    make_runs(3)
    with nbtrack.track("exp", name="long") as run:
        for step in range(30_000):
            run.log_metric("acc", (step % 1000) / 1000.0, step=step)
    state = DashboardState("exp")
    state.selected = [run.run_id]
    view = PlotView(state)
    view.metric.value = "acc"
    widget = view.widget
    assert len(widget.data[0].x) <= 2000 and "zoom in" in widget.layout.title.text
    widget._js2py_relayout = {"relayout_data": {"xaxis.range[0]": 1000, "xaxis.range[1]": 1500},
                              "source_view_id": "view"}
    assert view.widget is widget  # updated in place
    assert list(widget.data[0].x) == list(range(999, 1502))  # every logged point of the range
    widget._js2py_relayout = {"relayout_data": {"xaxis.autorange": True}, "source_view_id": "view"}
    assert len(widget.data[0].x) <= 2000
    state.selected = [run.run_id] + [r for r in nbtrack.runs("exp")["run_id"] if r != run.run_id][:1]
    widget = view.widget
    state.hovered = run.run_id
    widths = {t.customdata[0]: t.line.width for t in widget.data if len(t.customdata)}
    assert widths[run.run_id] == 4 and set(widths.values()) == {2, 4}
    state.hovered = ""
    assert {t.line.width for t in widget.data} == {2}


def test_without_anywidget_the_plot_is_static_with_a_note(runs12):
    state = DashboardState("exp")
    view = PlotView(state, interactive=False)
    assert view.widget is None and "anywidget" in view.hint.value
    bundle = view.output.outputs[0]["data"]["application/vnd.plotly.v1+json"]
    assert len(bundle["data"]) == 12
    state.selected = state.rows[0]["run_id"], state.rows[1]["run_id"]
    assert len(view.output.outputs[0]["data"]["application/vnd.plotly.v1+json"]["data"]) == 2


@pytest.mark.parametrize("kind", ["history", "scatter", "parallel", "bar"])
def test_every_kind_draws_on_an_empty_store(store, kind):
    view = PlotView(DashboardState())
    view.kind.value = kind
    assert view.figure is not None


def test_switching_between_plots_with_and_without_missing_bands(store):
    make_runs(4)
    with nbtrack.track("exp", name="no-lr", params={"model": "rf"}):  # lacks lr: a missing band
        nbtrack.log_metric("acc", 0.7)
    errors: list[Exception] = []
    view = PlotView(DashboardState("exp"), report_error=errors.append)
    view.kind.value = "scatter"
    view.scatter_x.value, view.scatter_y.value, view.scatter_color.value = "params.lr", "metrics.acc", ""
    assert view.widget.layout.xaxis2.ticktext == ("missing",)
    view.scatter_x.value = "duration"  # every run has one: no band
    assert "xaxis2" not in view.widget.layout.to_plotly_json()
    view.scatter_x.value = "params.lr"
    view.kind.value = "history"
    assert errors == [] and "xaxis2" not in view.widget.layout.to_plotly_json()
