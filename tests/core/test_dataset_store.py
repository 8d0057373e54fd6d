"""Stored dataset versions on real SQLite and PostgreSQL stores: copies, references, listing, lineage, diffs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

import nbtrack
from nbtrack.errors import DatasetNotFoundError, DatasetNotStoredError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NBTRACK_CACHE", str(tmp_path / "cache"))


def _frame(rows: int = 50) -> pd.DataFrame:
    return pd.DataFrame({
        "age": np.arange(rows, dtype="int64"),
        "income": np.linspace(1.0, 2.0, rows),
        "plan": pd.Categorical(["basic", "pro"] * (rows // 2)),
        "joined": pd.date_range("2024-01-01", periods=rows, freq="D"),
        "city": [f"c{i % 7}" for i in range(rows)],
    }, index=pd.Index([f"u{i}" for i in range(rows)], name="user"))


def _blob_count(store) -> int:
    return sum(1 for _ in store.blobs.iter_blobs())


def test_small_data_is_stored_once_and_comes_back(store_uri, tmp_path):
    frame = _frame()
    (tmp_path / "raw.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "1.png").write_bytes(b"\x89PNG one")
    (tmp_path / "images" / "nested").mkdir()
    (tmp_path / "images" / "nested" / "2.png").write_bytes(b"\x89PNG two")
    with nbtrack.track("data") as first:
        info = nbtrack.log_dataset(frame, "train")
        nbtrack.log_dataset(frame["income"], "income")
        nbtrack.log_dataset(np.arange(12.0).reshape(3, 4), "matrix")
        nbtrack.log_dataset(tmp_path / "raw.csv", "raw")
        nbtrack.log_dataset(str(tmp_path / "images"), "images")
    assert info["stored"]["format"] == "parquet" and info["shape"] == [50, 5] and "copy_note" not in info
    store = nbtrack.get_store()
    blobs_before = _blob_count(store)
    for _ in range(3):  # more runs using the same data add no blob
        with nbtrack.track("data"):
            again = nbtrack.log_dataset(frame, "train")
            nbtrack.log_dataset(tmp_path / "raw.csv", "raw")
    assert again["stored"] == info["stored"] and _blob_count(store) == blobs_before

    pd.testing.assert_frame_equal(nbtrack.load_dataset(first, "train"), frame)
    pd.testing.assert_series_equal(nbtrack.load_dataset(first.run_id, "income"), frame["income"])
    np.testing.assert_array_equal(nbtrack.load_dataset(first.run_id[:8], "matrix"), np.arange(12.0).reshape(3, 4))
    raw = nbtrack.load_dataset(first.run_id, "raw")
    assert raw.name == "raw.csv" and raw.read_text() == "a,b\n1,2\n3,4\n" and raw != tmp_path / "raw.csv"
    images = nbtrack.load_dataset(first.run_id, "images", dest=tmp_path / "restored")
    assert images == tmp_path / "restored" / "images"
    assert (images / "nested" / "2.png").read_bytes() == b"\x89PNG two"

    listed = nbtrack.datasets()
    assert list(listed["name"]) == ["images", "income", "matrix", "raw", "train"]
    train = listed[listed["name"] == "train"].iloc[0]
    assert train["stored"] and train["format"] == "parquet" and train["rows"] == 50 and train["columns"] == 5
    assert train["first_run"] == first.run_id and len(train["runs"]) == 4
    assert list(nbtrack.datasets("raw")["format"]) == ["file"]


def test_large_data_stays_a_reference_with_a_note(isolated, tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    big.write_text("x\n" + "1\n" * 2000)
    monkeypatch.setenv("NBTRACK_DATASET_COPY_LIMIT", "1KB")
    with nbtrack.track("data") as run:
        info = nbtrack.log_dataset(big, "big")
        small = nbtrack.log_dataset(_frame(4), "small", max_copy_bytes="1MB")
        skipped = nbtrack.log_dataset(_frame(4), "skipped", store=False)
    assert info["stored"] is None and "over the copy limit of 1.0 KB" in info["copy_note"]
    assert info["shape"] == [2000, 1]  # the schema and row count are kept without the copy
    assert small["stored"]["format"] == "parquet" and skipped["stored"] is None
    assert nbtrack.load_dataset(run.run_id, "big") == big.resolve()  # the original, still the same data
    big.write_text("x\n2\n")
    with pytest.raises(DatasetNotStoredError, match="big.csv has changed since"):
        nbtrack.load_dataset(run.run_id, "big")
    with pytest.raises(DatasetNotStoredError, match="store=False"):
        nbtrack.load_dataset(run.run_id, "skipped")
    with pytest.raises(DatasetNotFoundError, match=r"no dataset 'bigg' \(it has: big, skipped, small\)"):
        nbtrack.load_dataset(run.run_id, "bigg")
    row = nbtrack.datasets("big").iloc[0]
    assert not row["stored"] and "not copied" in row["note"]


def test_without_pyarrow_a_dataframe_is_stored_as_csv_with_a_note(isolated, tmp_path):
    """A real process in which pyarrow cannot be imported (as when the parquet extra is missing)."""
    build = ("pd.DataFrame({'n': np.arange(6, dtype='int32'), 'x': np.linspace(0, 1, 6), 'when': "
             "pd.date_range('2024-01-01', periods=6), 'flag': [True, False] * 3, 'name': list('abcdef')})")
    script = (
        "import sys; sys.modules['pyarrow'] = None\n"
        f"import numpy as np, pandas as pd, nbtrack\nframe = {build}\n"
        "with nbtrack.track('data') as run:\n"
        "    info = nbtrack.log_dataset(frame, 'train')\n"
        "print(run.run_id); print(info['stored']['format']); print(info['copy_note'])\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    run_id, fmt, note = result.stdout.strip().splitlines()
    assert fmt == "csv" and "pyarrow is missing" in note and "pip install 'nbtrack[parquet]'" in note
    original = eval(build)  # noqa: S307 - the same frame, built here
    loaded = nbtrack.load_dataset(run_id, "train")  # dtypes come back from the fingerprint's info
    pd.testing.assert_frame_equal(loaded, original)


def test_loading_inside_a_run_records_where_the_data_came_from(store_uri):
    with nbtrack.track("prep") as producer:
        nbtrack.log_dataset(_frame(), "features")
    with nbtrack.track("train") as consumer:
        nbtrack.load_dataset(producer.run_id, "features")
    lineage = nbtrack.get_run(consumer.run_id).lineage
    (used,) = lineage.datasets
    assert used.loaded_from == producer.run_id and used.first_run == producer.run_id and used.stored
    assert lineage.upstream == [producer.run_id]


def test_gc_keeps_stored_copies_while_a_run_uses_them(store_uri, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("content")
    with nbtrack.track("data") as run:
        info = nbtrack.log_dataset(_frame(), "train")
        directory = nbtrack.log_dataset(tmp_path / "d", "d")
    store = nbtrack.get_store()
    assert store.collect_garbage(grace_seconds=0)["blobs_removed"] == 0
    assert store.blobs.exists(info["stored"]["sha256"]) and store.blobs.exists(directory["stored"]["sha256"])
    nbtrack.delete_run(run.run_id)
    store.collect_garbage(grace_seconds=0)
    assert not store.blobs.exists(info["stored"]["sha256"])


def test_diff_and_compare_say_whether_two_runs_saw_the_same_data(isolated):
    from nbtrack.dashboards.compare import compare_html

    frame = _frame()
    changed = frame.drop(columns=["city"]).assign(score=1.0, age=frame["age"].astype("float64"))
    changed = pd.concat([changed, changed.iloc[:10]])
    runs = []
    for data in (frame, frame, changed):
        with nbtrack.track("data") as run:
            nbtrack.log_dataset(data, "train")
        runs.append(run.run_id)
    same = run_cli("diff", runs[0], runs[1])
    assert same.returncode == 0 and "datasets: same data (train " in same.stdout
    different = run_cli("diff", runs[0], runs[2]).stdout
    assert "datasets: different data" in different
    line = next(line for line in different.splitlines() if line.strip().startswith("train"))
    for part in ("rows 50 -> 60", "columns added: score", "columns removed: city", "age int64 -> float64"):
        assert part in line
    html = compare_html([nbtrack.get_run(r) for r in runs])
    assert 'data-key="datasets.train"' in html and "same data" in html and "rows 50 -&gt; 60" in html


def test_a_copy_that_cannot_be_written_keeps_the_fingerprint_and_the_run_goes_on(isolated, tmp_path, monkeypatch,
                                                                                 capfd):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the artifact directory should be")
    monkeypatch.setenv("NBTRACK_ARTIFACTS", str(blocked))
    with nbtrack.track("data") as run:
        info = nbtrack.log_dataset(_frame(), "train")
        nbtrack.log_metric("after", 1.0)
    assert info["stored"] is None and info["copy_note"].startswith("not copied: ")
    assert "nbtrack: dataset 'train': not copied" in capfd.readouterr().err
    stored = nbtrack.get_run(run.run_id)
    assert stored.metrics["after"] == 1.0 and stored.datasets[0]["fingerprint"] == info["fingerprint"]
