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
