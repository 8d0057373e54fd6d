"""The HTML templates (report, run detail, compare) render every run string as text."""

from __future__ import annotations

import html

from dashboard_helpers import EVIL

import nbtrack
from nbtrack.dashboards.compare import compare_html
from nbtrack.dashboards.detail import detail_html
from nbtrack.dashboards.report import render_report

TEMPLATE_SYNTAX = "{{ 7*7 }} {% if true %}yes{% endif %} {# c #}"


def _log_evil_run() -> str:
    with nbtrack.track("exp", name=EVIL, params={"model": TEMPLATE_SYNTAX, "x": EVIL}, tags={"t": EVIL},
                       notes=TEMPLATE_SYNTAX) as run:
        nbtrack.log_metric("acc", 0.5)
    with nbtrack.track("exp", name="ok", params={"model": "rf", "x": 1}):
        nbtrack.log_metric("acc", 0.6)
    return run.run_id


def test_report_renders_run_strings_and_template_syntax_as_text(store):
    _log_evil_run()
    text = render_report("exp")
    assert EVIL not in text and html.escape(EVIL, quote=True) in text
    assert html.escape(TEMPLATE_SYNTAX, quote=True) in text


def test_detail_and_compare_render_run_strings_and_template_syntax_as_text(store):
    run_id = _log_evil_run()
    record = nbtrack.get_run(run_id)
    text = detail_html(record)
    assert EVIL not in text and text.count(html.escape(EVIL, quote=True)) >= 3  # name, param, tag
    assert text.count(TEMPLATE_SYNTAX) == 2  # param and notes, exactly as typed
    other = nbtrack.get_run(nbtrack.runs("exp", filter="name = 'ok'")["run_id"][0])
    compared = compare_html([record, other])
    assert EVIL not in compared and html.escape(EVIL, quote=True) in compared
    assert TEMPLATE_SYNTAX in compared
    assert type(text) is str and type(compared) is str  # a Markup would escape whatever is added to it
