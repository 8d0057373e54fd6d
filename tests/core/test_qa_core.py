"""QA pass on the core: each test here failed before the fix committed with it."""

from __future__ import annotations

import pytest

import nbtrack
from nbtrack import config
from nbtrack.store.sql import SqlStore


def _flushed_run(run_id):
    nbtrack.flush() if nbtrack.active_run() else None
    return nbtrack.get_run(run_id)


def test_steps_and_sizes_beyond_32_bits_are_stored(store_uri):
    """PostgreSQL INTEGER is 32-bit: a step of 2**31 made the whole run unwritable (lost)."""
    with nbtrack.track("big") as run:
        nbtrack.log_param("p", 1)
        nbtrack.log_metric("m", 1.5, step=2**31)
        nbtrack.log_metric("m", 2.5, step=10**15)
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.params == {"p": 1}
    assert list(record.metric_history("m")["step"]) == [2**31, 10**15]


def test_a_version_1_postgres_store_is_migrated_to_64_bit_steps(postgres_uri):
    from sqlalchemy import create_engine, text

    SqlStore(postgres_uri).close()
    engine = create_engine(postgres_uri)
    with engine.begin() as connection:
        for table, column in (("metrics", "step"), ("latest_metrics", "step"), ("artifacts", "size")):
            connection.execute(text(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE INTEGER'))
        connection.execute(text("UPDATE nbtrack_meta SET value = '1' WHERE key = 'schema_version'"))
    engine.dispose()
    config._stores.clear()
    nbtrack.set_store(postgres_uri)
    with nbtrack.track("old") as run:
        nbtrack.log_metric("m", 1.0, step=2**40)
    assert nbtrack.get_store().schema_version() == 2
    assert list(nbtrack.get_run(run.run_id).metric_history("m")["step"]) == [2**40]


@pytest.mark.parametrize("log", [
    lambda: nbtrack.set_tag("t", "a\x00b"),
    lambda: nbtrack.log_param("s", "a\x00b"),
    lambda: nbtrack.log_param("nested", ["ok", "a\x00b"]),
    lambda: nbtrack.log_metric("k\x00", 1.0),
    lambda: nbtrack.log_note("a\x00b"),
])
def test_nul_characters_are_refused_when_logged_not_when_written(store_uri, log):
    """PostgreSQL cannot store NUL in text: the run used to be silently lost at flush time."""
    with nbtrack.track("nul") as run:
        nbtrack.log_param("kept", 1)
        with pytest.raises(ValueError, match="NUL"):
            log()
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.params == {"kept": 1}


@pytest.mark.parametrize("options", [{"name": "x" * 251}, {"experiment": "e" * 251}, {"name": "a\x00"}])
def test_run_and_experiment_names_too_long_for_the_store_are_refused(store_uri, options):
    with pytest.raises(ValueError, match="250 characters|NUL"):
        nbtrack.track(**options)
    assert nbtrack.active_run() is None
    with nbtrack.track("after", name="y" * 250) as run:
        pass
    assert nbtrack.get_run(run.run_id).name == "y" * 250


def test_stored_run_edits_refuse_values_the_store_cannot_keep(store_uri):
    with nbtrack.track("edits") as run:
        pass
    with pytest.raises(ValueError):
        nbtrack.rename_run(run.run_id, "n" * 251)
    with pytest.raises(ValueError):
        nbtrack.rename_experiment("edits", "e" * 251)
    with pytest.raises(ValueError, match="NUL"):
        nbtrack.note_run(run.run_id, "a\x00")
    record = nbtrack.get_run(run.run_id)
    assert record.experiment == "edits" and record.notes in ("", None)


def test_long_document_keys_are_refused_when_set(store_uri):
    with nbtrack.track("docs") as run:
        with pytest.raises(ValueError, match="64"):
            run.set_document("k" * 65, {"a": 1})
    assert nbtrack.get_run(run.run_id).status == "FINISHED"


@pytest.mark.parametrize("url, expected", [
    ("https://user:p@ss@github.com/team/repo.git", "https://github.com/team/repo.git"),
    ("https://user:tok@en@host:8443/repo", "https://host:8443/repo"),
    ("https://token@github.com/team/repo.git", "https://github.com/team/repo.git"),
    ("ssh://git:pw@host:22/repo", "ssh://host:22/repo"),
    ("git@github.com:team/repo.git", "git@github.com:team/repo.git"),
    ("https://github.com/team/a@b.git", "https://github.com/team/a@b.git"),
])
def test_git_remote_credentials_are_stripped_entirely(url, expected):
    """A password with an '@' in it used to leave its tail in the recorded remote."""
    from nbtrack.gitinfo import strip_credentials

    assert strip_credentials(url) == expected


def test_unicode_keys_can_be_filtered_and_sorted_without_backquotes(store_uri):
    with nbtrack.track("uni", params={"größe": 3}) as first:
        nbtrack.log_metric("précision", 0.9)
    with nbtrack.track("uni", params={"größe": 5}):
        nbtrack.log_metric("précision", 0.5)
    found = nbtrack.runs("uni", filter="metrics.précision > 0.8 and params.größe = 3")
    assert list(found["run_id"]) == [first.run_id]
    assert list(nbtrack.runs("uni", order_by="metrics.précision DESC")["run_id"])[0] == first.run_id


def test_an_offset_without_max_results_over_many_runs(store_uri):
    """More than LITERAL_ID_LIMIT runs with an offset and no limit sent LIMIT -1: PostgreSQL refused it."""
    import time
    import uuid

    from nbtrack.store.batch import Batch
    from nbtrack.store.query import LITERAL_ID_LIMIT

    now = time.time()
    ids = [uuid.uuid4().hex for _ in range(LITERAL_ID_LIMIT + 20)]
    nbtrack.get_store().write_batch(Batch(
        creates=[(run_id, "many", f"r{i}", now + i, None) for i, run_id in enumerate(ids)],
        tags=[(ids[0], "first", "yes")]))
    found = nbtrack.runs("many", offset=5)
    assert len(found) == len(ids) - 5
    assert found["run_id"].iloc[-1] == ids[0] and found["tags.first"].iloc[-1] == "yes"
    with pytest.raises(ValueError, match="max_results"):
        nbtrack.runs("many", max_results=-1)


def _cli(*argv):
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "nbtrack.cli", *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=120)


def test_cli_diff_neither_invents_nor_hides_differences(isolated):
    """NaN metrics in both runs were listed as '(none) -> (none)'; a None param vs no param was hidden."""
    with nbtrack.track("d", params={"same": 1, "gone": None, "flag": True}) as a:
        nbtrack.log_metric("loss", float("nan"))
    with nbtrack.track("d", params={"same": 1, "flag": 1}) as b:
        nbtrack.log_metric("loss", float("nan"))
    out = _cli("diff", a.run_id, b.run_id)
    assert out.returncode == 0, out.stderr
    assert "metrics: identical" in out.stdout
    assert "gone  None  ->  (none)" in out.stdout
    assert "flag  True  ->  1" in out.stdout
    assert "same" not in out.stdout


def test_cli_json_output_is_standard_json_and_keeps_infinities(isolated):
    """show --json printed bare NaN/Infinity (not JSON); export --format json turned inf into null."""
    import json

    def strict(text):
        return json.loads(text, parse_constant=lambda constant: pytest.fail(f"non-standard JSON {constant}"))

    with nbtrack.track("j") as run:
        nbtrack.log_metric("up", float("inf"))
        nbtrack.log_metric("down", float("-inf"))
        nbtrack.log_metric("loss", float("nan"))
        nbtrack.log_metric("acc", 0.5)
    shown = _cli("show", "--json", run.run_id)
    assert shown.returncode == 0, shown.stderr
    assert strict(shown.stdout)["metrics"] == {"acc": 0.5, "down": "-Infinity", "loss": "NaN", "up": "Infinity"}
    exported = _cli("export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    (row,) = strict(exported.stdout)
    assert (row["metrics.up"], row["metrics.down"], row["metrics.acc"]) == ("Infinity", "-Infinity", 0.5)


def test_cli_store_option_after_the_command(isolated):
    """`nbtrack ls --store runs.db` failed with 'unrecognized arguments'."""
    nbtrack.set_store(isolated / "elsewhere.db")
    with nbtrack.track("placed", name="over-there"):
        pass
    listed = _cli("ls", "--store", str(isolated / "elsewhere.db"))
    assert listed.returncode == 0, listed.stderr
    assert "over-there" in listed.stdout
    assert "placed" in _cli("experiments", "--store", "elsewhere.db").stdout


def test_forked_workers_do_not_log_into_a_copy_of_the_parents_run(isolated):
    """A forked child saw the parent's run as active: its points went to a copy nobody wrote
    (silently lost), and it could not start a run of its own (ActiveRunError)."""
    import multiprocessing

    from nbtrack.errors import NoActiveRunError

    context = multiprocessing.get_context("fork")
    with nbtrack.track("parent") as parent:
        nbtrack.log_metric("p", 1.0)
        with context.Pool(2) as pool:
            outcomes = pool.map(_forked_worker, range(3))
        nbtrack.log_metric("p", 2.0)
    assert [outcome[0] for outcome in outcomes] == [NoActiveRunError.__name__] * 3
    record = nbtrack.get_run(parent.run_id)
    assert record.status == "FINISHED" and list(record.metric_history("p")["value"]) == [1.0, 2.0]
    for i, (_, run_id) in enumerate(outcomes):
        child = nbtrack.get_run(run_id)
        assert child.experiment == "worker" and child.parent_run_id is None
        assert child.params == {"i": i} and child.metrics == {"w": float(i)}
        assert child.environment.get("python"), child.environment  # its capture did not hang


def _forked_worker(i):
    try:
        nbtrack.log_metric("w", i)
        error = "none"
    except Exception as exc:
        error = type(exc).__name__
    with nbtrack.track("worker", params={"i": i}) as run:
        nbtrack.log_metric("w", i)
    return error, run.run_id


def test_gc_keeps_an_old_blob_that_a_run_is_logging_again(isolated):
    """Content already stored (by a since-deleted run) kept its old mtime when logged again, so gc
    removed it in the moment before the new run's artifact row was written."""
    import os

    with nbtrack.track("gc") as old:
        nbtrack.log_artifact(b"weights", name="w.bin")
    nbtrack.delete_run(old.run_id)
    store = nbtrack.get_store()
    sha = nbtrack.get_run(old.run_id).artifact("w.bin").sha256
    assert store.collect_garbage(grace_seconds=3600)["runs_purged"] == 1  # the blob is young: kept
    assert store.blobs.exists(sha)
    os.utime(store.blobs.path(sha), (1_000_000, 1_000_000))
    assert store.blobs.put_bytes(b"weights")[0] == sha  # a new run logs the same content ...
    store.collect_garbage(grace_seconds=3600)  # ... and gc runs before its row is flushed
    assert store.blobs.exists(sha)


@pytest.mark.parametrize("options", [{"step": 2**63}, {"step": -2**63 - 1}, {"timestamp": float("nan")},
                                     {"timestamp": float("inf")}, {"timestamp": 1.7e12}])
def test_metric_steps_and_timestamps_the_store_cannot_keep_are_refused_when_logged(store_uri, options):
    """A step beyond 64 bits or a NaN timestamp made every flush fail (the run was lost); an infinite
    timestamp was stored and then broke metric_history()."""
    with nbtrack.track("steps") as run:
        nbtrack.log_param("kept", 1)
        with pytest.raises(ValueError):
            nbtrack.log_metric("m", 1.0, **options)
        nbtrack.log_metric("m", 2.0, step=2**63 - 1, timestamp=1_700_000_000.5)
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.params == {"kept": 1}
    history = record.metric_history("m")
    assert list(history["step"]) == [2**63 - 1] and list(history["value"]) == [2.0]


def test_a_document_that_is_not_json_does_not_block_the_runs_other_data(store_uri):
    """Mixed-type dict keys (sort_keys) or a cycle made every flush of the run fail: the run was lost."""
    cyclic: list = []
    cyclic.append(cyclic)
    with nbtrack.track("docs") as run:
        nbtrack.log_param("kept", 1)
        run.set_document("mixed", {1: "a", "b": 2})
        run.set_document("cyclic", cyclic)
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.params == {"kept": 1}
    assert "not JSON-able" in record.document("mixed")["error"]
    assert "not JSON-able" in record.document("cyclic")["error"]


def test_a_file_that_is_not_a_database_is_one_clear_error(isolated):
    (isolated / "notes.txt").write_text("not a database\n" * 100)
    listed = _cli("--store", "notes.txt", "ls")
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert listed.stderr.strip().count("\n") == 0 and "file is not a database" in listed.stderr
    nbtrack.set_store(isolated / "notes.txt")
    from nbtrack.errors import StoreUnavailableError

    with pytest.raises(StoreUnavailableError, match="cannot open"):
        nbtrack.runs()


def test_a_password_in_the_store_uri_query_is_not_shown(isolated):
    """?password=... was printed in full in store errors (and so in notebook outputs)."""
    from nbtrack.store.sql import redact_uri

    assert redact_uri("postgresql+psycopg://u@h/db?password=s3cret&sslmode=require") == \
        "postgresql+psycopg://u@h/db?password=***&sslmode=require"
    assert "s3cret" not in redact_uri("postgresql+psycopg://u:s3cret@h/db")
    listed = _cli("--store", "postgresql://u@127.0.0.1:1/db?password=s3cret", "ls")
    assert listed.returncode == 1 and "s3cret" not in listed.stderr + listed.stdout
    assert "password=***" in listed.stderr


def test_a_sweep_against_a_silent_store_does_not_wait_a_connect_timeout_per_run(isolated):
    """With a store that accepts connections but never answers, every run waited for the connect
    timeout twice (environment thread and end), and the exit flush once more per run."""
    import os
    import socket
    import subprocess
    import sys
    import textwrap
    import time
    from pathlib import Path

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel completes handshakes; nobody ever answers
    port = silent.getsockname()[1]
    code = textwrap.dedent("""
        import time, nbtrack
        started = time.time()
        for i in range(6):
            with nbtrack.track("sweep", params={"i": i}):
                nbtrack.log_metric("m", i)
        print("sweep took", round(time.time() - started, 1))
    """)
    repo = Path(__file__).resolve().parents[2]
    began = time.time()
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "PYTHONPATH": str(repo), "NBTRACK_CONNECT_TIMEOUT": "2",
                                     "NBTRACK_STORE": f"postgresql+psycopg://u@127.0.0.1:{port}/db"})
    finally:
        silent.close()
    total = time.time() - began
    assert "sweep took" in result.stdout, result.stderr
    assert float(result.stdout.split()[-1]) < 8, result.stdout  # was ~6 runs x 2 timeouts x 2 s
    assert total < 16, (total, result.stderr)
    assert result.stderr.count("cannot write to the run store") == 1


@pytest.mark.parametrize("code, status", [(0, "FINISHED"), (None, "FINISHED"), (3, "FAILED"), ("bad", "FAILED")])
def test_sys_exit_inside_a_run(isolated, code, status):
    """sys.exit(0) inside `with nbtrack.track()` recorded a FAILED run with error 'SystemExit: 0'."""
    with pytest.raises(SystemExit):
        with nbtrack.track("exit") as run:
            nbtrack.log_metric("m", 1.0)
            raise SystemExit(code)
    record = nbtrack.get_run(run.run_id)
    assert record.status == status and record.metrics == {"m": 1.0}
    assert (record.error is None) == (status == "FINISHED")


def test_cli_export_to_a_directory_is_one_clear_error(isolated):
    with nbtrack.track("out"):
        pass
    result = _cli("export", "-o", str(isolated))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("nbtrack export: error:") and "Is a directory" in result.stderr


def test_tags_set_from_whole_floats_match_the_same_number_in_a_filter(store_uri):
    """set_tag("v", 2.0) stores "2.0" but `tags.v = 2.0` compared with "2": nothing matched."""
    with nbtrack.track("tagnum", tags={"v": 2.0}) as floats:
        pass
    with nbtrack.track("tagnum", tags={"v": 2}) as ints:
        pass
    with nbtrack.track("tagnum", tags={"v": "3"}) as other:
        pass

    def found(text):
        return set(nbtrack.runs("tagnum", filter=text)["run_id"])

    assert found("tags.v = 2.0") == {floats.run_id, ints.run_id}
    assert found("tags.v = 2") == {ints.run_id}
    assert found("tags.v != 2.0") == {other.run_id}
    assert found("tags.v IN (2.0, 3)") == {floats.run_id, ints.run_id, other.run_id}
    assert found("tags.v NOT IN (2.0)") == {other.run_id}


def test_an_artifact_whose_media_type_is_very_long_is_still_stored(store_uri):
    """A registered media type over 100 characters made every flush fail on PostgreSQL."""
    import mimetypes

    long_type = "application/vnd." + "x" * 120 + "+json"
    mimetypes.add_type(long_type, ".qalongtype")
    with nbtrack.track("mime") as run:
        nbtrack.log_param("kept", 1)
        nbtrack.log_artifact(b"{}", name="thing.qalongtype")
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.artifact("thing.qalongtype").read_bytes() == b"{}"
