"""Values the store cannot keep (64-bit steps, NUL, long names, non-JSON documents): refused or stored."""

from __future__ import annotations

import pytest

import nbtrack


def test_steps_and_sizes_beyond_32_bits_are_stored(store_uri):
    """PostgreSQL INTEGER is 32-bit: a step of 2**31 made the whole run unwritable (lost)."""
    with nbtrack.track("big") as run:
        nbtrack.log_param("p", 1)
        nbtrack.log_metric("m", 1.5, step=2**31)
        nbtrack.log_metric("m", 2.5, step=10**15)
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.params == {"p": 1}
    assert list(record.metric_history("m")["step"]) == [2**31, 10**15]


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
