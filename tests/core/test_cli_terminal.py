"""The console script never hands a terminal raw control characters, and prints errors as one line."""

from __future__ import annotations

import sqlite3

from cli_helpers import run_cli

import nbtrack

EVIL = "x\x1b]0;owned\x07\x1b[2J\x9b31m\u202e"


def _stored_evil_run() -> str:
    with nbtrack.track(experiment="e" + EVIL, name=EVIL, params={"k" + EVIL: EVIL},
                       tags={"t" + EVIL: EVIL}, notes="line1\n" + EVIL) as run:
        nbtrack.log_metric("m" + EVIL, 1.0)
    return run.run_id


def _assert_clean(text: str) -> None:
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 or c == "\u202e"]
    assert not bad, repr(text)


def test_ls_show_diff_experiments_escape_control_characters(isolated):
    run_id = _stored_evil_run()
    other = _stored_evil_run()
    for argv in (["ls", "--all-columns"], ["show", run_id], ["diff", run_id, other], ["experiments"]):
        result = run_cli(*argv)
        assert result.returncode == 0, result.stderr
        _assert_clean(result.stdout)
    shown = run_cli("show", run_id).stdout
    assert "x\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202e" in shown  # visible, not interpreted


def test_errors_escape_control_characters(isolated):
    _stored_evil_run()
    result = run_cli("show", "zz" + EVIL)
    assert result.returncode == 1
    _assert_clean(result.stderr)


def test_filter_error_is_one_message_without_traceback(isolated):
    _stored_evil_run()
    result = run_cli("ls", "--filter", "metrics.acc >>> 1")
    assert result.returncode == 1
    assert result.stderr.startswith("nbtrack ls: error:") and "Traceback" not in result.stderr


def test_corrupt_store_is_one_line_without_traceback(isolated):
    path = isolated / "store" / "nbtrack.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    for argv in (["ls"], ["show", "abc"], ["experiments"], ["export"]):
        result = run_cli(*argv)
        assert result.returncode == 1, result.stdout
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_store_without_schema_row_is_one_line(isolated):
    _stored_evil_run()
    path = isolated / "store" / "nbtrack.db"
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            if "schema" in table or "version" in table or "meta" in table:
                db.execute(f'delete from "{table}"')
    result = run_cli("ls")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)
    if result.returncode == 1:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
