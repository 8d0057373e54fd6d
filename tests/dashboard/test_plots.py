"""Plots that take part in the selection, and long histories: pure figure functions on
hand-made frames, the database downsampling on a real SQLite store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nbtrack
from nbtrack.dashboards import figures
from nbtrack.dashboards.downsample import minmax_indices
from nbtrack.dashboards.histories import RAW_LIMIT, read_histories

A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def runs_with_gaps() -> pd.DataFrame:
    """Run C has no lr, run D no acc: they must show as missing, not at an axis minimum."""
    return pd.DataFrame({
        "run_id": [A, B, C, D], "name": ["a", "b", "c", "d"],
        "params.lr": [0.1, 0.01, None, 0.5], "params.model": ["rf", "lin", None, "rf"],
        "metrics.acc": [0.9, 0.8, 0.7, None],
    })


# -- downsampling ---------------------------------------------------------------------------

def test_minmax_keeps_every_spike_and_only_logged_points():
    steps = np.arange(100_000)
    values = np.sin(steps / 5000.0)
    values[31_337] = 50.0
    values[77_777] = -50.0
    keep = minmax_indices(steps, values, buckets=500)
    assert len(keep) <= 1000
    assert 31_337 in keep and 77_777 in keep
    assert np.all(np.diff(keep) > 0)  # in step order
    assert values[keep].max() == 50.0 and values[keep].min() == -50.0


def test_minmax_short_series_is_untouched_and_nan_buckets_stay_gaps():
    assert list(minmax_indices([0, 1, 2], [1.0, 2.0, 3.0], buckets=10)) == [0, 1, 2]
    values = np.r_[np.full(50, np.nan), np.arange(50.0)]
    keep = minmax_indices(np.arange(100), values, buckets=5)
    assert np.isnan(values[keep]).sum() >= 1  # the all-NaN range keeps one point: the gap shows
    assert 99 in keep and 50 in keep


@pytest.fixture
def long_run(store):
    """One run with 60,000 points of ``loss`` (a spike at step 41,234) and one with 30."""
    with nbtrack.track("long", name="long") as run:
        for step in range(60_000):
            run.log_metric("loss", 100.0 if step == 41_234 else 1.0 / (1 + step), step=step)
        long_id = run.run_id
    with nbtrack.track("long", name="short") as run:
        for step in range(30):
            run.log_metric("loss", float(step), step=step)
        short_id = run.run_id
    return long_id, short_id


def test_long_history_is_bucketed_in_the_database_and_exact_on_zoom(long_run):
    long_id, short_id = long_run
    assert 60_000 > RAW_LIMIT
    view = read_histories([long_id, short_id], "loss", max_points=1000)
    frame = view.frame
    long_part = frame[frame.run_id == long_id]
    assert len(long_part) <= 1000 and view.exact == {long_id: False, short_id: True}
    assert 100.0 in long_part.value.tolist()  # the spike survives
    spike = long_part[long_part.value == 100.0]
    assert spike.step.tolist() == [41_234]  # with its own step
    assert len(frame[frame.run_id == short_id]) == 30
    # zoom: a range of 800 steps holds every logged point, exactly
    zoom = read_histories([long_id], "loss", max_points=1000, step_range=(41_000, 41_799))
    assert zoom.exact == {long_id: True}
    expected = nbtrack.metric_histories([long_id], "loss")
    expected = expected[(expected.step >= 41_000) & (expected.step <= 41_799)]
    assert zoom.frame.step.tolist() == expected.step.tolist()
    assert zoom.frame.value.tolist() == expected.value.tolist()
    # a mid-sized zoom (fetched, then reduced in numpy) still keeps the spike
    middle = read_histories([long_id], "loss", max_points=1000, step_range=(30_000, 45_000))
    assert len(middle.frame) <= 1000 and 100.0 in middle.frame.value.tolist()


def test_history_figure_marks_downsampled_and_missing_runs(long_run):
    long_id, short_id = long_run
    view = read_histories([long_id, short_id], "loss", max_points=1000)
    fig = figures.history_figure(view.frame, "loss", exact=view.exact, missing=[C],
                                 labels={long_id: "long", short_id: "short", C: "lacks loss"})
    assert [t.name for t in fig.data] == ["long", "short", "lacks loss (missing: no loss)"]
    assert fig.data[2].visible == "legendonly" and list(fig.data[2].x) == []
    assert "zoom in" in fig.layout.title.text
    assert fig.layout.uirevision == "loss|step"


# -- selection and highlight ----------------------------------------------------------------

def test_scatter_puts_runs_lacking_a_value_in_a_missing_band():
    fig = figures.scatter_figure(runs_with_gaps(), "params.lr", "metrics.acc")
    main, *bands = fig.data
    assert list(main.customdata) == [A, B]
    lacks_x = next(t for t in bands if t.xaxis == "x2")
    lacks_y = next(t for t in bands if t.yaxis == "y2")
    assert list(lacks_x.customdata) == [C] and list(lacks_x.y) == [0.7]
    assert list(lacks_y.customdata) == [D] and list(lacks_y.x) == [0.5]
    assert list(fig.layout.xaxis2.ticktext) == ["missing"] and list(fig.layout.yaxis2.ticktext) == ["missing"]
    # the bands sit beside the plot area, which no longer reaches the edge
    assert fig.layout.xaxis.domain[0] > fig.layout.xaxis2.domain[1]
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]
    assert figures.plotted_run_ids(fig) == [A, B, C, D]


def test_categorical_axis_shows_missing_as_a_category_and_selection_fades_the_rest():
    fig = figures.scatter_figure(runs_with_gaps(), "params.model", "metrics.acc", selected=[B])
    main = fig.data[0]
    assert list(main.x) == ["rf", "lin", "(missing)"]
    assert list(main.selectedpoints) == [1]
    assert main.unselected.marker.opacity < 1


def test_parallel_coordinates_put_missing_below_the_axis():
    fig = figures.parallel_figure(runs_with_gaps(), ["params.lr", "params.model"], "metrics.acc")
    lr, model, acc = fig.data[0].dimensions
    assert lr.ticktext[0] == "missing" and lr.values[2] == lr.tickvals[0] < min(0.01, lr.range[1])
    assert lr.range[0] == lr.tickvals[0]
    assert list(model.ticktext) == ["lin", "rf", "(missing)"]
    assert acc.ticktext[0] == "missing" and acc.values[3] == acc.tickvals[0]


def test_bar_marks_missing_and_selected():
    fig = figures.bar_figure(runs_with_gaps(), "metrics.acc", selected=[A, D])
    bars, missing = fig.data
    assert list(bars.selectedpoints) == [0, 3]
    assert list(missing.customdata) == [D] and list(missing.text) == ["missing"]


def test_picked_points_map_to_run_ids():
    fig = figures.scatter_figure(runs_with_gaps(), "params.lr", "metrics.acc", "params.model")
    rf_trace = next(i for i, t in enumerate(fig.data) if t.name == "rf")
    band = next(i for i, t in enumerate(fig.data) if t.xaxis == "x2")
    assert figures.selected_run_ids(fig, {rf_trace: [0], band: [0], 99: [3]}) == [A, C]


def test_parcoords_brush_selects_runs():
    fig = figures.parallel_figure(runs_with_gaps(), ["params.lr"], "metrics.acc")
    trace = fig.data[0]
    assert figures.parcoords_selected_run_ids(trace) is None
    trace.dimensions[0].constraintrange = [0.05, 0.6]
    assert figures.parcoords_selected_run_ids(trace) == [A, D]
    trace.dimensions[1].constraintrange = [[0.85, 0.95], [0.75, 0.78]]
    assert figures.parcoords_selected_run_ids(trace) == [A]


def test_highlight_thickens_one_curve_and_outlines_one_marker():
    frame = pd.DataFrame({"run_id": [A, A, B, B], "step": [0, 1, 0, 1], "value": [1.0, 2.0, 3.0, 4.0],
                          "timestamp": [0.0, 1.0, 0.0, 1.0]})
    fig = figures.history_figure(frame, "loss", highlight=B)
    assert [t.line.width for t in fig.data] == [2, 4] and [t.opacity for t in fig.data] == [0.3, 1.0]
    normal = figures.highlight_updates(fig, None)
    assert [u["opacity"] for u in normal] == [1.0, 1.0]
    scatter = figures.scatter_figure(runs_with_gaps(), "params.lr", "metrics.acc")
    updates = figures.highlight_updates(scatter, B)
    assert updates[0]["marker"]["line"]["width"] == [0, 3]


def test_titles_legends_and_axis_titles_have_their_own_room():
    frame = pd.DataFrame({"run_id": [A, B], "step": [0, 0], "value": [1.0, 2.0], "timestamp": [0.0, 0.0]})
    for fig in (figures.history_figure(frame, "loss"),
                figures.scatter_figure(runs_with_gaps(), "params.lr", "metrics.acc", "metrics.acc"),
                figures.bar_figure(runs_with_gaps(), "metrics.acc"),
                figures.parallel_figure(runs_with_gaps(), ["params.lr"], "metrics.acc")):
        layout = fig.layout
        assert layout.title.yref == "container" and layout.title.y >= 0.95  # in the top margin
        assert layout.margin.t >= 50
        assert layout.legend.x > 1  # right of the plot area: plotly widens the margin for it
        for trace in fig.data:
            colorbar = getattr(getattr(trace, "marker", None), "colorbar", None) or getattr(
                getattr(trace, "line", None), "colorbar", None)
            if colorbar is not None and colorbar.x is not None:
                assert colorbar.x > 1
        if layout.xaxis.title.text:
            assert layout.xaxis.automargin and layout.yaxis.automargin
