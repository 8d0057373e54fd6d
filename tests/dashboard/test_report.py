"""``nbtrack.report`` / ``nbtrack report``: one self-contained HTML file from a real store."""

from __future__ import annotations

import re

import pytest
from dashboard_helpers import EVIL, make_runs

import nbtrack
from nbtrack.cli import main
from nbtrack.dashboards.report import NoRunsToReportError, write_report
from nbtrack.errors import ExperimentNotFoundError, FilterSyntaxError


def test_report_holds_the_table_and_plots_offline(store, tmp_path):
    make_runs(12)
    path = write_report("exp", tmp_path / "out" / "report.html")
    text = path.read_text()
    assert path.name == "report.html" and path.parent.name == "out"
    assert text.count('<tr class="nbtrack-row"') == 12
    assert len(re.findall(r'<div id="nbtrack-figure-\d"', text)) == 4  # bar, history, scatter, parallel
    assert "Plotly.newPlot" in text
    assert "<script src=" not in text and len(text) > 3_000_000  # plotly.js is inline, nothing fetched
    assert text.count('class="nbtrack-best"') == 2


def test_report_filter_and_facade(store, tmp_path):
    make_runs(12)
    path = nbtrack.report("exp", str(tmp_path / "rf.html"), filter="params.model = 'rf'")
    text = path.read_text()
    assert text.count('<tr class="nbtrack-row"') == 6
    assert "params.model = &#x27;rf&#x27;" in text


def test_report_escapes_run_strings_everywhere(store, tmp_path):
    breakout = "</script><script>alert(1)</script>" + EVIL
    with nbtrack.track("exp", name=breakout, params={"model": breakout}, tags={"t": breakout}):
        nbtrack.log_metric("acc", 0.5)
    with nbtrack.track("exp", name="ok", params={"model": "rf"}):
        nbtrack.log_metric("acc", 0.6)
    text = write_report("exp", tmp_path / "r.html").read_text()
    assert "<img src=x" not in text and "<script>alert(1)" not in text


def test_report_user_errors(store, tmp_path):
    make_runs(2)
    with pytest.raises(ExperimentNotFoundError):
        write_report("missing", tmp_path / "a.html")
    with pytest.raises(FilterSyntaxError):
        write_report("exp", tmp_path / "a.html", filter="metrics.acc >> 1")
    with pytest.raises(NoRunsToReportError):
        write_report("exp", tmp_path / "a.html", filter="metrics.acc > 100")
    assert not (tmp_path / "a.html").exists()


def test_cli_report(store, tmp_path, capsys):
    make_runs(3, "alpha")
    make_runs(2, "beta")
    out = tmp_path / "both.html"
    assert main(["--store", str(store), "report", "-e", "alpha", "-e", "beta", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out.resolve())
    assert out.read_text().count('<tr class="nbtrack-row"') == 5
    assert main(["--store", str(store), "report", "-e", "nope", "-o", str(tmp_path / "x.html")]) == 1
    assert "no experiment named 'nope'" in capsys.readouterr().err


def test_report_media_view_is_inline_and_plotly_js_is_there_once(store, tmp_path):
    import json

    import numpy as np

    for i, name in enumerate(["a", EVIL, "c"]):
        with nbtrack.track("exp", name=name, params={"lr": 0.1 * (i + 1)}):
            nbtrack.log_metric("acc", 0.5 + i / 10)
            for epoch in range(60 if i == 0 else 3):
                nbtrack.log_image(np.full((2, 2), (epoch * 3) % 256, np.uint8), "confusion", step=epoch)
    text = write_report("exp", tmp_path / "r.html").read_text()
    assert text.count("Plotly.newPlot") >= 4 and text.count('<script type="text/javascript">') == 1
    page = re.sub(r'<script type="text/javascript">.*?</script>', "", text, count=1, flags=re.S)  # plotly.js
    assert "<script src=" not in page and "<link" not in page and "://" not in page  # nothing to fetch
    section = re.search(r'<section class="nbtrack-report-media" data-series="confusion">(.*?)</section>', text, re.S)
    assert section and "<img src=x" not in section.group(1) and "&lt;img src=x" in section.group(1)
    data = json.loads(re.search(r'<script type="application/json" class="nbtrack-media-data">(.*?)</script>',
                                section.group(1), re.S).group(1))
    assert len(data["steps"]) == 40 and data["steps"][0] == 0 and data["steps"][-1] == 59  # spread, ends kept
    # best acc first; a short run has the frames of its own steps that the spread keeps (0 and 2)
    assert [len(r["frames"]) for r in data["runs"]] == [2, 2, 40]
    assert all(uri.startswith("data:image/png;base64,") for uri in data["content"].values())
    assert len(data["content"]) < 40 + 6  # each distinct image once
    meta = json.loads(re.search(r'id="nbtrack-report-meta">(.*?)</script>', text).group(1))
    assert meta["runs"] == 3
