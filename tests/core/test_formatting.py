"""One place each for formatting, statuses, system tags, the headline metric and guarded steps."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from nbtrack import formatting, headline, statuses, systemtags
from nbtrack.guard import guard, guarded


@pytest.mark.parametrize("seconds, text", [
    (0.35, "350 ms"), (1.23, "1.2 s"), (59.9, "59.9 s"), (61, "1m01s"), (3599, "59m59s"), (7500, "2h05m"),
    (None, ""), (float("nan"), ""), (pd.Timedelta(seconds=61), "1m01s"), (pd.NaT, ""),
])
def test_one_duration_format(seconds, text):
    assert formatting.format_duration(seconds) == text


def test_cli_dashboard_and_cell_summary_print_the_same_duration():
    from nbtrack.cli_core import _duration
    from nbtrack.dashboards.table import format_value
    from nbtrack.notebook.summary import summary_bundle

    for seconds in (0.2, 4.56, 125.0, 9000.0):
        shown = formatting.format_duration(seconds)
        assert _duration(seconds) == format_value("duration", seconds) == shown
        assert f" · {shown} · " in summary_bundle("abcdef0123", "exp", "FINISHED", seconds, 1, 1, 0, [])["text/plain"]


def test_numbers_and_times():
    assert [formatting.format_number(v) for v in (3, 3.0, 0.123456, True, float("inf"), 1e20)] == \
        ["3", "3", "0.1235", "True", "inf", "1e+20"]
    assert formatting.format_number(0.123456789, digits=6) == "0.123457"
    assert formatting.format_time(0) == "1970-01-01 00:00"
    assert formatting.format_time(dt.datetime(2026, 1, 2, 3, 4)) == "2026-01-02 03:04"


def test_headline_prefers_known_names_then_suffixes_then_the_first_by_name():
    assert headline.headline_key(["loss", "acc"]) == "acc"
    assert headline.headline_key(["zeta", "val_f1"]) == "val_f1"
    assert headline.headline_key(["zeta", "beta"]) == "beta"
    assert headline.headline_key([]) is None


def test_statuses_and_system_tags_are_defined_once():
    from nbtrack import run
    from nbtrack.dashboards import columns
    from nbtrack.frontend import messages

    assert run.STATUSES is columns.STATUSES is statuses.STATUSES == ("RUNNING", "FINISHED", "FAILED", "KILLED")
    assert columns.SYSTEM_TAG_PREFIX is messages.SYSTEM_TAG_PREFIX is systemtags.SYSTEM_TAG_PREFIX == "nbtrack."
    assert systemtags.is_system_tag("nbtrack.cell") and not systemtags.is_system_tag("nbtrackx")


def test_guarded_logs_with_the_traceback_and_keeps_going(caplog):
    caplog.set_level(logging.DEBUG, logger="nbtrack")
    with guarded("sending the badge"):
        raise OSError("socket closed")
    assert "sending the badge failed" in caplog.text
    assert caplog.records[-1].exc_info[0] is OSError

    @guard("reading the path", default="fallback")
    def read() -> str:
        raise ValueError("bad")

    assert read() == "fallback"
    with pytest.raises(KeyboardInterrupt):
        with guarded("anything"):
            raise KeyboardInterrupt
