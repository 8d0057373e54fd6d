"""The table of artifact kinds: one dump/load per kind, shared by log_artifact and ArtifactRecord.load."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import nbtrack
from nbtrack.artifact_kinds import KINDS, artifact_kind, kind_for_object


def test_unknown_kind_error_lists_the_valid_choices():
    with pytest.raises(ValueError, match="unknown artifact kind 'nope'; known kinds: text, file, figure"):
        artifact_kind("nope")
    assert [kind.kind for kind in KINDS] == ["text", "file", "figure", "plotly", "dataframe", "json",
                                             "skops", "media", "pickle"]


def test_objects_find_their_kind():
    assert kind_for_object("x", "a.txt").kind == "text"
    assert kind_for_object(b"x", "a.bin").kind == "file"
    assert kind_for_object(pd.DataFrame({"a": [1]}), None).kind == "dataframe"
    assert kind_for_object({"a": 1}, None).kind == "json"
    assert kind_for_object({"a": 1}, "a.pkl").kind == "pickle"
    assert kind_for_object({"a": 1}, "model.skops").kind == "skops"
    assert kind_for_object(object(), None).kind == "pickle"


def test_importing_the_store_and_reading_a_run_imports_no_plotly(isolated):
    with nbtrack.track("imports") as run:
        nbtrack.log_artifact({"a": 1}, name="config.json")
    code = ("import sys, nbtrack; r = nbtrack.get_run(%r); assert r.artifact('config.json').load() == {'a': 1}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('plotly', 'matplotlib', 'skops')))"
            % run.run_id)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_parquet_and_skops_round_trip(isolated):
    pytest.importorskip("pyarrow")
    pytest.importorskip("skops")
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"x": [1.5, 2.5], "y": ["a", "b"]})
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with nbtrack.track("kinds") as run:
        nbtrack.log_artifact(frame, name="frame.parquet")
        nbtrack.log_artifact(model, name="model.skops")
    record = nbtrack.get_run(run.run_id)
    parquet = record.artifact("frame.parquet")
    assert (parquet.kind, parquet.media_type) == ("dataframe", "application/vnd.apache.parquet")
    assert parquet.read_bytes()[:4] == b"PAR1"
    assert parquet.load().equals(frame)
    skops = record.artifact("model.skops")
    assert (skops.kind, skops.media_type) == ("skops", "application/x-skops")
    loaded = skops.load()
    assert type(loaded) is LogisticRegression
    assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]


def test_media_types_per_kind(isolated):
    with nbtrack.track("media") as run:
        nbtrack.log_artifact("# hi", name="readme.md")
        nbtrack.log_artifact("hi", name="notes")
        nbtrack.log_artifact(b"\x00", name="blob")
        nbtrack.log_artifact([1, 2], name="list.json")
        nbtrack.log_artifact(pd.DataFrame({"a": [1]}))
    record = nbtrack.get_run(run.run_id)
    media = {a.name: (a.kind, a.media_type) for a in record.artifacts if not a.name.startswith("source/")}
    assert media == {"readme.md": ("text", "text/markdown"), "notes": ("text", "text/plain"),
                     "blob": ("file", "application/octet-stream"), "list.json": ("json", "application/json"),
                     "data.csv": ("dataframe", "text/csv")}
    assert record.artifact("notes").load() == "hi"
    assert record.artifact("blob").load() == b"\x00"
