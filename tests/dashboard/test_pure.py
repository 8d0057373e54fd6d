"""Pure parts of the dashboard: columns, HTML escaping, figures, detail and compare HTML.

Built from hand-made DataFrames shaped like ``nbtrack.runs()`` returns; no widget, no store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd
import pytest

from nbtrack.dashboards import columns, compare, detail, figures, table

EVIL = "<img src=x onerror=alert(1)>"


def runs_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "run_id": ["a" * 32, "b" * 32, "c" * 32],
        "experiment": ["exp"] * 3,
        "name": ["rf", EVIL, "lin"],
        "status": ["FINISHED", "RUNNING", "FAILED"],
        "start_time": [1.7e9, 1.7e9 + 60, 1.7e9 + 120],
        "duration": [12.5, 61.0, None],
        "params.lr": [0.1, 0.01, 0.001],
        "params.model": ["rf", EVIL, "lin"],
        "metrics.acc": [0.9, 0.8, 0.95],
        "metrics.val_loss": [0.3, 0.2, 0.5],
    })


# -- columns -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, direction", [
    ("loss", "min"), ("val_loss", "min"), ("trainLoss", "min"), ("error_rate", "min"), ("rmse", "min"),
    ("latency_ms", "min"), ("perplexity", "min"), ("acc", "max"), ("f1", "max"), ("auc", "max"),
    ("metrics.val_loss", "min"), ("accuracy", "max"), ("mae", "min"),
])
def test_guess_direction(name, direction):
    assert columns.guess_direction(name) == direction


def test_directions_overrides_beat_the_guess():
    assert columns.metric_directions(["loss", "acc"], {"loss": "max"}) == {"loss": "max", "acc": "max"}
    assert columns.metric_directions(["loss"], {"metrics.loss": "max"}) == {"loss": "max"}


def test_default_columns_are_varying_params_and_all_metrics():
    summary = SimpleNamespace(params={"lr": 3, "seed": 1, "model": 2}, metrics={"acc": (0, 1), "loss": (0, 2)},
                              tags={"stage": 2, "nbtrack.source": 1})
    assert columns.default_columns(summary) == ["params.lr", "params.model", "metrics.acc", "metrics.loss"]
    assert "tags.nbtrack.source" not in columns.available_columns(summary)
    assert "tags.nbtrack.source" in columns.available_columns(summary, include_system=True)


def test_order_clauses_quote_odd_keys():
    assert columns.order_clause("metrics.acc", True) == "metrics.acc DESC"
    assert columns.order_clause("params.val loss", False) == "params.`val loss` ASC"
    assert columns.order_clause("name", False) == "name ASC"


# -- table HTML ----------------------------------------------------------------------------

def test_table_html_escapes_everything_from_a_run():
    rows = runs_frame().to_dict("records")
    html = table.table_html(rows, ["run_id", "name", "status", "params.model", "metrics.acc"])
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count('data-column="') == 5


def test_attribute_injection_through_a_key_is_escaped():
    html = table.table_html([{"run_id": "r1", 'params.x" onmouseover="alert(1)': "v"}],
                            ['params.x" onmouseover="alert(1)'])
    assert 'onmouseover="alert' not in html
    assert "&quot;" in html


def test_the_table_payload_is_column_arrays_of_json_values():
    from nbtrack.dashboards.tableview import column_spec, rows_payload

    frame = runs_frame()
    frame["params.flag"] = [True, False, None]
    frame["metrics.inf"] = [float("inf"), float("-inf"), float("nan")]
    rows = frame.to_dict("records")
    rows[0]["params.opts"] = {"b": 1, "a": [1, 2]}
    columns = ["run_id", "name", "status", "start_time", "duration", "params.lr", "params.model", "params.flag",
               "params.opts", "metrics.acc", "metrics.inf"]
    payload = rows_payload(rows, columns)
    assert payload["run_id"] == ["a" * 32, "b" * 32, "c" * 32]
    assert payload["name"] == ["rf", EVIL, "lin"]  # text: the browser sets it with textContent
    assert payload["start_time"] == [1.7e9, 1.7e9 + 60, 1.7e9 + 120]
    assert payload["duration"] == [12.5, 61.0, None]
    assert payload["params.flag"] == ["True", "False", None]
    assert payload["params.opts"] == ['{"a": [1, 2], "b": 1}', None, None]
    assert payload["metrics.inf"] == ["inf", "-inf", None]  # JSON has no infinities or NaN
    assert payload["depth"] == [0, 0, 0] and payload["deleted"] == [False, False, False]
    assert [column_spec(c, payload[c])["type"] for c in ("run_id", "status", "start_time", "duration",
                                                         "params.lr", "params.model", "metrics.acc")] == \
        ["id", "status", "time", "duration", "number", "text", "number"]
    assert column_spec("metrics.acc")["label"] == "acc" and column_spec("metrics.acc")["numeric"]


def test_replacing_an_unknown_key_with_the_suggestion():
    from nbtrack.dashboards.tableview import replace_key

    unknown = [{"field": "metrics.acuracy", "position": 20}]
    text = "params.model = 'rf' metrics.acuracy > 0.8"
    assert replace_key(text, unknown, "metrics.acuracy", "metrics.accuracy") == \
        "params.model = 'rf' metrics.accuracy > 0.8"
    quoted = [{"field": "metrics.val acc", "position": 0}]
    assert replace_key("metrics.`val acc` > 1", quoted, "metrics.val acc", "metrics.val_acc") == "metrics.val_acc > 1"
    assert replace_key("metrics.x > 1", [], "metrics.x", "metrics.a b") == "metrics.`a b` > 1"


def test_best_values_follow_the_direction():
    best = table.best_values({"acc": (0.8, 0.95), "val_loss": (0.2, 0.5)}, {"acc": "max"})
    assert best == {"metrics.acc": 0.95, "metrics.val_loss": 0.2}
    frame = runs_frame()
    html = table.table_html(frame.to_dict("records"), ["name", "metrics.acc", "metrics.val_loss"], best)
    marked = re.findall(r'<span class="nbtrack-best"[^>]*>([^<]*)</span>', html)
    assert marked == ["0.2", "0.95"]
    flipped = table.best_values({"acc": (0.8, 0.95)}, {"acc": "min"})
    assert flipped == {"metrics.acc": 0.8}


def test_status_colours_and_formatting():
    assert "background:#d62728" in table.cell_inner_html("status", "FAILED")
    assert table.format_value("duration", 61.0) == "1m01s"
    assert table.format_value("start_time", 0) == "1970-01-01 00:00"
    assert table.format_value("metrics.acc", 0.912345) == "0.9123"
    assert table.format_value("metrics.acc", float("nan")) == ""


def test_run_id_is_selectable_in_full():
    html = table.cell_inner_html("run_id", "f" * 32)
    assert 'class="nbtrack-runid"' in html and "f" * 32 + "</code>" in html


# -- figures ---------------------------------------------------------------------------------

def histories() -> pd.DataFrame:
    rows = []
    for run_id, scale in (("a" * 32, 1.0), ("b" * 32, 2.0)):
        for step in range(4):
            rows.append({"run_id": run_id, "step": step, "value": scale / (step + 1), "timestamp": 1.7e9 + step})
    return pd.DataFrame(rows)


def test_history_figure_has_one_line_per_run_and_wall_time_axis():
    labels = {"a" * 32: "rf (aaaaaaaa)", "b" * 32: EVIL}
    fig = figures.history_figure(histories(), "val_loss", x="step", labels=labels)
    assert [t.name for t in fig.data] == ["rf (aaaaaaaa)", "&lt;img src=x onerror=alert(1)&gt;"]
    assert list(fig.data[0].x) == [0, 1, 2, 3] and list(fig.data[1].y) == [2.0, 1.0, 2 / 3, 0.5]
    timed = figures.history_figure(histories(), "val_loss", x="time", labels=labels)
    assert timed.data[0].x[0].startswith("2023-11-14T22:13:20")
    assert figures.history_figure(histories().iloc[0:0], "val_loss").data == ()


def test_scatter_numeric_and_categorical_colour():
    frame = runs_frame()
    numeric = figures.scatter_figure(frame, "params.lr", "metrics.acc", "metrics.val_loss")
    assert len(numeric.data) == 1 and list(numeric.data[0].marker.color) == [0.3, 0.2, 0.5]
    categorical = figures.scatter_figure(frame, "params.lr", "metrics.acc", "params.model")
    assert sorted(t.name for t in categorical.data) == sorted(["rf", "lin", "&lt;img src=x onerror=alert(1)&gt;"])
    assert figures.plotted_run_ids(categorical) == list(frame["run_id"])


def test_parallel_coordinates_encode_categories():
    fig = figures.parallel_figure(runs_frame(), ["params.lr", "params.model"], "metrics.acc")
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["lr", "model", "acc"]
    assert list(dims[1].ticktext) == sorted(["rf", "lin", "&lt;img src=x onerror=alert(1)&gt;"])
    assert list(fig.data[0].line.color) == [0.9, 0.8, 0.95]


def test_bar_highlights_the_best_run():
    fig = figures.bar_figure(runs_frame(), "metrics.val_loss")
    assert list(fig.data[0].marker.color) == ["#1f77b4", "#ff7f0e", "#1f77b4"]
    higher = figures.bar_figure(runs_frame(), "metrics.acc")
    assert list(higher.data[0].marker.color) == ["#1f77b4", "#1f77b4", "#ff7f0e"]


def test_mimebundle_is_plain_json():
    bundle = figures.mimebundle(figures.bar_figure(runs_frame(), "metrics.acc"))
    spec = bundle["application/vnd.plotly.v1+json"]
    assert spec["data"][0]["y"] == [0.9, 0.8, 0.95]


# -- detail and compare ------------------------------------------------------------------

SNAPSHOT = "# ---\n# jupyter: {}\n# ---\n\n# %%\nimport x\n\n# %% [markdown]\n# <b>notes</b>\n\n# %%\n%%track\nfit()\n"


def test_split_cells_skips_the_header():
    cells = detail.split_cells(SNAPSHOT)
    assert len(cells) == 3 and cells[2].endswith("fit()")


def test_snapshot_highlights_the_tracked_cell_and_escapes():
    html = detail.snapshot_html(SNAPSHOT, detail.tracked_cell_index({"cell_index": 2}))
    tracked = re.findall(r'<pre class="tracked" data-cell-index="(\d+)" data-tracked="true">', html)
    assert tracked == ["2"]
    assert "<b>notes</b>" not in html and "&lt;b&gt;notes&lt;/b&gt;" in html


def test_tracked_cell_keys():
    assert detail.tracked_cell_index({"cell": {"index": 4}}) == 4
    assert detail.tracked_cell_id({"cell_id": "abc"}) == "abc"
    assert detail.tracked_cell_index(None) is None


@dataclass
class Rec:
    run_id: str
    name: str
    status: str = "FINISHED"
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


def test_compare_highlights_differences_and_best():
    a = Rec("a" * 32, EVIL, params={"lr": 0.1, "seed": 1}, metrics={"loss": 0.5})
    b = Rec("b" * 32, "two", params={"lr": 0.2, "seed": 1}, metrics={"loss": 0.25})
    html = compare.compare_html([a, b])
    assert '<tr class="nbtrack-differs" data-key="params.lr">' in html
    assert '<tr data-key="params.seed">' in html
    assert '<span class="nbtrack-best">0.25</span>' in html
    assert "<img" not in html
    assert "select two" in compare.compare_html([a])


def test_diff_html_shows_changed_hunks_escaped():
    before = "\n".join(f"line {i}" for i in range(20))
    after = before.replace("line 10", "line <ten>")
    html = compare.diff_html(before, after, "run a", "run b")
    assert '<div class="del">-line 10</div>' in html
    assert '<div class="add">+line &lt;ten&gt;</div>' in html
    assert "line 3" not in html  # outside the context window
    assert "identical" in compare.diff_html("x", "x")


def test_kv_and_hidden_state_escape():
    assert "<script>" not in detail.kv_table_html({"<script>": "<script>"})
    html = detail.hidden_state_html({"stale": ["<x>", "y"], "ok": False})
    assert "&lt;x&gt;" in html and "<li>" in html


def test_hidden_state_leads_with_warnings():
    report = {"tracked_cell": 3, "uses": ["df"], "out_of_order": [{"name": "df", "cell": 5}],
              "warnings": ["df was last set by cell 5, which ran after <cell 3>"], "matters": True}
    html = detail.hidden_state_html(report)
    assert html.index("nbtrack-hidden-warnings") < html.index("<details>")
    assert "&lt;cell 3&gt;" in html and "out_of_order" in html
    clean = detail.hidden_state_html({"tracked_cell": 1, "uses": [], "warnings": [], "matters": False})
    assert "no hidden-state issues" in clean and "nbtrack-error" not in clean


def test_every_style_rule_is_scoped_to_the_dashboard():
    """The dashboard's CSS lands in the whole page (JupyterLab's Runs panel, other widgets): a
    global rule such as `.nbtrack-status { color: white }` once made the Runs panel's labels
    white on white. Every selector must start at the dashboard's root."""
    from pathlib import Path

    css_files = {"table.CSS": table.CSS,
                 "runtable.css": (Path(table.__file__).with_name("static") / "runtable.css").read_text()}
    for name, css in css_files.items():
        text = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        text = re.sub(r"@keyframes[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", text)  # animation steps
        selectors = [s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", text) for s in block.split(",")]
        assert selectors, name
        unscoped = [s for s in selectors if not re.match(r"\.nbtrack-(dashboard|runtable)\b", s)]
        assert unscoped == [], (name, unscoped)
