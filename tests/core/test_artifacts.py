"""Artifacts and datasets: content-addressed blobs, safe names, fingerprints, gc."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nbtrack
from nbtrack.errors import ArtifactNameError, ArtifactNotFoundError


def blob_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and len(p.name) == 64]


def test_every_kind_of_artifact_round_trips(isolated):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    (isolated / "model.txt").write_text("weights")
    folder = isolated / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("A")
    (folder / "sub" / "b.txt").write_text("B")
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    frame = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    with nbtrack.track("art") as run:
        assert nbtrack.log_artifact(isolated / "model.txt") == "model.txt"
        assert nbtrack.log_artifact(str(folder)) == "outputs"
        nbtrack.log_artifact(b"\x00\x01", name="raw.bin")
        nbtrack.log_artifact("some text", name="notes/readme.md")
        nbtrack.log_artifact(figure, name="plots/curve.png")
        nbtrack.log_artifact(go.Figure(go.Bar(y=[1, 2])), name="bars.plotly.json")
        nbtrack.log_artifact(frame, name="frame.csv")
        nbtrack.log_artifact({"a": 1}, name="config.json")
        nbtrack.log_artifact({"fitted": [1, 2, 3]}, name="model.pkl")
    record = nbtrack.get_run(run.run_id)
    names = {a.name for a in record.artifacts if not a.name.startswith("source/")}  # source/: the script
    assert names == {"model.txt", "outputs/a.txt", "outputs/sub/b.txt", "raw.bin", "notes/readme.md",
                     "plots/curve.png", "bars.plotly.json", "frame.csv", "config.json", "model.pkl"}
    assert record.artifact("model.txt").read_text() == "weights"
    assert record.artifact("outputs/sub/b.txt").read_bytes() == b"B"
    assert record.artifact("raw.bin").read_bytes() == b"\x00\x01"
    assert record.artifact("plots/curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert record.artifact("bars.plotly.json").load().data[0].type == "bar"
    assert record.artifact("frame.csv").load().equals(frame)
    assert record.artifact("config.json").load() == {"a": 1}
    pickled = record.artifact("model.pkl")
    assert pickled.kind == "pickle"
    assert pickle.loads(Path(pickled.local_path()).read_bytes()) == {"fitted": [1, 2, 3]}
    assert pickled.load() == {"fitted": [1, 2, 3]}
    with pytest.raises(ArtifactNotFoundError, match="model.txt"):
        record.artifact("nope")


def test_identical_content_is_stored_once(isolated):
    ids = []
    for _ in range(5):
        with nbtrack.track("dedup") as run:
            nbtrack.log_artifact("# the same notebook snapshot\n" * 100, name="notebook.py")
        ids.append(run.run_id)
    records = [nbtrack.get_run(run_id) for run_id in ids]
    assert len({record.artifact("notebook.py").sha256 for record in records}) == 1
    distinct = {artifact.sha256 for record in records for artifact in record.artifacts}
    assert len(blob_files(isolated / "store" / "artifacts")) == len(distinct) < len(ids)


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../b", "/etc/passwd", "C:\\evil", "a\x00b", "", "..",
                                  "./.."])
def test_names_cannot_escape_the_run(name):
    with nbtrack.track("names") as run:
        with pytest.raises(ArtifactNameError):
            nbtrack.log_artifact(b"x", name=name)
        nbtrack.log_artifact(b"ok", name="./fine/./name.bin")
    assert "fine/name.bin" in [a.name for a in nbtrack.get_run(run.run_id).artifacts]


def test_text_that_is_not_a_path_needs_a_name():
    with nbtrack.track("text"):
        with pytest.raises(ValueError, match="pass a name"):
            nbtrack.log_artifact("definitely not a file")


def test_artifacts_root_can_be_configured(isolated, monkeypatch):
    root = isolated / "elsewhere"
    monkeypatch.setenv("NBTRACK_ARTIFACTS", str(root))
    with nbtrack.track("root") as run:
        nbtrack.log_artifact(b"abc", name="x.bin")
    sha = nbtrack.get_run(run.run_id).artifact("x.bin").sha256
    assert sha in {p.name for p in blob_files(root)}
    assert not (isolated / "store" / "artifacts").exists()


def test_gc_purges_deleted_runs_and_unreferenced_blobs(isolated):
    with nbtrack.track("gc") as keep:
        nbtrack.log_artifact("kept", name="k.txt")
    with nbtrack.track("gc") as drop:
        nbtrack.log_artifact("dropped", name="d.txt")
        nbtrack.log_artifact("kept", name="shared.txt")
    nbtrack.delete_run(drop.run_id)
    store = nbtrack.get_store()
    assert store.collect_garbage(grace_seconds=0, dry_run=True)["blobs_removed"] == 1
    before = len(blob_files(isolated / "store" / "artifacts"))
    result = store.collect_garbage(grace_seconds=0)
    assert result == {"runs_purged": 1, "blobs_removed": 1, "bytes_freed": len("dropped"), "temporary_files_removed": 0}
    assert len(blob_files(isolated / "store" / "artifacts")) == before - 1
    assert nbtrack.get_run(keep.run_id).artifact("k.txt").read_text() == "kept"
    with pytest.raises(LookupError):
        nbtrack.get_run(drop.run_id)


def test_dataset_fingerprints(isolated):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.1, 0.2, 0.3]})
    (isolated / "data.csv").write_text(frame.to_csv(index=False))
    with nbtrack.track("data") as run:
        first = nbtrack.log_dataset(frame, "train")
        same = nbtrack.log_dataset(frame.copy(), "train_copy")
        changed = frame.copy()
        changed.loc[1, "b"] = 0.25
        other = nbtrack.log_dataset(changed, "train_changed")
        array = nbtrack.log_dataset(np.arange(6).reshape(2, 3), "array")
        from_file = nbtrack.log_dataset(isolated / "data.csv", "file")
        with pytest.raises(TypeError, match="fingerprint"):
            nbtrack.log_dataset(object(), "bad")
        with pytest.raises(FileNotFoundError):
            nbtrack.log_dataset(isolated / "missing.csv", "missing")
    assert first["fingerprint"] == same["fingerprint"] != other["fingerprint"]
    assert first["shape"] == [3, 2] and first["columns"] == ["a", "b"] and first["dtypes"]["a"] == "int64"
    assert array["shape"] == [2, 3]
    assert from_file["shape"] == [3, 2] and from_file["size"] == os.path.getsize(isolated / "data.csv")
    stored = {d["name"]: d for d in nbtrack.get_run(run.run_id).datasets}
    assert set(stored) == {"train", "train_copy", "train_changed", "array", "file"}
    assert stored["train"]["fingerprint"] == first["fingerprint"]
