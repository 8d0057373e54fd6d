"""Artifacts on S3 (moto's standalone server on loopback): streamed, complete or absent, no credential stored."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from motoserver import ACCESS_KEY, SECRET_KEY, MotoServer, moto_command

import nbtrack
from nbtrack import config

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUCKET = "team-artifacts"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    command = moto_command()
    try:
        import s3fs  # noqa: F401
    except ImportError:
        command = None
    if command is None:
        message = "moto[server] and s3fs are needed: pip install 'nbtrack[dev]'"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    server = MotoServer(command, str(tmp_path_factory.mktemp("moto") / "moto.log"))
    yield server
    server.stop()


@pytest.fixture
def s3(moto, monkeypatch):
    """A fresh bucket and an s3:// artifact root; credentials only in the environment (never in the URL)."""
    moto.client().create_bucket(Bucket=BUCKET)
    for key, value in moto.environment().items():
        monkeypatch.setenv(key, value)
    prefix = f"runs-{time.time_ns()}"
    monkeypatch.setenv("NBTRACK_ARTIFACTS", f"s3://{BUCKET}/{prefix}")
    config._stores.clear()
    yield prefix
    config._stores.clear()


def _objects(moto, prefix: str) -> dict[str, int]:
    found = {}
    for page in moto.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return found


def _assert_complete_blobs_only(moto, prefix: str) -> None:
    """Every object at a content address holds exactly that content; nothing temporary is left."""
    client = moto.client()
    for key in _objects(moto, prefix):
        name = key.rsplit("/", 1)[-1]
        assert not name.endswith(".tmp"), key
        digest = hashlib.sha256()
        for chunk in client.get_object(Bucket=BUCKET, Key=key)["Body"].iter_chunks(1 << 20):
            digest.update(chunk)
        assert digest.hexdigest() == name, key


def test_artifacts_are_stored_on_s3_and_read_back(moto, s3, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(os.urandom(3 << 20))
    (tmp_path / "model" / "config.json").write_text('{"layers": 3}')
    with nbtrack.track("s3") as run:
        nbtrack.log_artifact(b"small bytes", name="small.bin")
        nbtrack.log_artifact(tmp_path / "model")
        nbtrack.log_artifact({"a": 1}, name="params.json")
    record = nbtrack.get_run(run.run_id)
    assert record.artifact("small.bin").read_bytes() == b"small bytes"
    assert record.artifact("model/weights.bin").read_bytes() == (tmp_path / "model" / "weights.bin").read_bytes()
    with record.artifact("model/config.json").open() as handle:
        assert json.load(handle) == {"layers": 3}
    assert record.artifact("small.bin").local_path() is None  # remote: read through open()/read_bytes()
    addresses = {f"{s3}/{a.sha256[:2]}/{a.sha256}" for a in record.artifacts}
    assert set(_objects(moto, s3)) == addresses and len(addresses) >= 4
    _assert_complete_blobs_only(moto, s3)
    recorded = json.dumps([record.to_dict(), record.environment], default=str)
    assert SECRET_KEY not in recorded


def test_credentials_from_aws_files_are_never_recorded(moto, s3, tmp_path, monkeypatch):
    """The secret comes from ~/.aws/credentials (not a secret-named variable): it is still redacted
    wherever it would be recorded, because the credentials in use are registered as known secrets."""
    secret = "from-the-aws-file-" + "Zq9" * 8
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {secret}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with nbtrack.track("s3") as run:
        nbtrack.log_artifact(b"x", name="x.bin")
        nbtrack.log_param("printed", f"connected with {secret}")
        nbtrack.log_note(f"the key was {secret}")
        nbtrack.set_tag("where", f"s3 via {secret}")
    record = nbtrack.get_run(run.run_id)
    text = json.dumps([record.to_dict(), record.environment, record.document("redactions")], default=str)
    assert secret not in text and "<redacted>" in record.params["printed"]
    assert record.artifact("x.bin").read_bytes() == b"x"


CHILD = textwrap.dedent("""
    import hashlib, json, os, sys, time
    sys.path.insert(0, sys.argv[2])
    from motoserver import rss_mb
    import nbtrack
    path, size = sys.argv[1], int(sys.argv[3]) << 20
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)
    nbtrack.get_store().blobs.fs.ls(os.environ["NBTRACK_ARTIFACTS"][5:].split("/")[0])  # connected: a baseline
    import gc; gc.collect()
    def reset_peak():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    reset_peak(); base = rss_mb()[0]; started = time.time()
    with nbtrack.track("big") as run:
        nbtrack.log_artifact(path, name="big.bin")
    upload = rss_mb()[1] - base
    upload_seconds = time.time() - started
    reset_peak(); base = rss_mb()[0]; started = time.time()
    digest = hashlib.sha256()
    with nbtrack.get_run(run.run_id).artifact("big.bin").open() as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    read = rss_mb()[1] - base
    print(json.dumps({"upload_mb": upload, "read_mb": read, "sha": digest.hexdigest(), "run": run.run_id,
                      "upload_s": upload_seconds, "read_s": time.time() - started}))
""")


def _child_env(moto, prefix: str, **extra) -> dict[str, str]:
    return {**os.environ, **moto.environment(), "PYTHONPATH": REPO, "NBTRACK_ARTIFACTS": f"s3://{BUCKET}/{prefix}",
            **extra}


def test_a_500_mb_artifact_streams_up_in_parts_and_back_with_flat_memory(moto, s3, tmp_path):
    big = tmp_path / "big.bin"
    result = subprocess.run([sys.executable, "-c", CHILD, str(big), os.path.dirname(__file__), "500"],
                            capture_output=True, text=True, timeout=900, env=_child_env(moto, s3))
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.splitlines()[-1])
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    assert measured["sha"] == expected
    assert measured["upload_mb"] < 100 and measured["read_mb"] < 100, measured
    key = f"{s3}/{expected[:2]}/{expected}"
    head = moto.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == 500 << 20
    assert list(_objects(moto, s3)) == [key]  # the temporary key was removed after the copy
    print(f"500 MB: upload {measured['upload_s']:.1f} s (+{measured['upload_mb']:.0f} MB RSS), "
          f"read {measured['read_s']:.1f} s (+{measured['read_mb']:.0f} MB RSS)")


UPLOADER = textwrap.dedent("""
    import os, sys, nbtrack
    path = sys.argv[1]
    with open(path, "wb") as f:
        f.write(os.urandom(int(sys.argv[2]) << 20))
    with nbtrack.track("interrupted") as run:
        print(run.run_id, flush=True)
        nbtrack.log_artifact(b"before", name="before.bin")
        print("uploading", flush=True)
        nbtrack.log_artifact(path, name="big.bin")
        print("returned", flush=True)
        nbtrack.log_metric("after", 1.0)
""")


def _start_uploader(moto, prefix, tmp_path, megabytes: int, **extra) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-c", UPLOADER, str(tmp_path / "upload.bin"), str(megabytes)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=_child_env(moto, prefix, NBTRACK_STORE=f"sqlite:///{tmp_path / 'store.db'}",
                                              **extra))
    run_id = process.stdout.readline().strip()
    assert process.stdout.readline().strip() == "uploading", process.stderr.read()
    client = moto.client()
    deadline = time.time() + 60
    while not client.list_multipart_uploads(Bucket=BUCKET).get("Uploads"):  # parts are on their way
        assert time.time() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.02)
    return process, run_id


def _artifacts_of(tmp_path, run_id: str) -> dict[str, str]:
    config._stores.clear()
    nbtrack.set_store(f"sqlite:///{tmp_path / 'store.db'}")
    record = nbtrack.get_run(run_id)
    return {a.name: a.sha256 for a in record.artifacts}, record


def test_a_server_restart_mid_upload_is_retried_and_nothing_half_written_is_referenced(moto, s3, tmp_path):
    process, run_id = _start_uploader(moto, s3, tmp_path, 120)
    moto.restart()  # every upload in flight is lost with the server's memory
    moto.client().create_bucket(Bucket=BUCKET)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and out.strip() == "returned", err
    names, record = _artifacts_of(tmp_path, run_id)
    digest = hashlib.sha256((tmp_path / "upload.bin").read_bytes()).hexdigest()
    assert names["big.bin"] == digest and record.status == "FINISHED"
    assert hashlib.sha256(record.artifact("big.bin").read_bytes()).hexdigest() == digest
    _assert_complete_blobs_only(moto, s3)


def test_a_server_gone_for_good_mid_upload_fails_cleanly(moto, s3, tmp_path):
    process, run_id = _start_uploader(moto, s3, tmp_path, 120, NBTRACK_ARTIFACT_RETRIES="1")
    moto.stop()
    try:
        out, err = process.communicate(timeout=300)
    finally:
        moto.start()
        moto.client().create_bucket(Bucket=BUCKET)
    assert process.returncode == 0 and out.strip() == "returned", err
    assert "could not save the artifact 'big.bin'" in err and "Traceback" not in err
    names, record = _artifacts_of(tmp_path, run_id)
    assert "big.bin" not in names and record.status == "FINISHED" and record.metrics["after"] == 1.0
    assert [e["name"] for e in record.document("artifact_errors")] == ["big.bin"]
    _assert_complete_blobs_only(moto, s3)


def test_a_client_killed_mid_upload_leaves_no_blob_at_an_address(moto, s3, tmp_path):
    process, run_id = _start_uploader(moto, s3, tmp_path, 120)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    names, _ = _artifacts_of(tmp_path, run_id)
    assert "big.bin" not in names
    digest = hashlib.sha256((tmp_path / "upload.bin").read_bytes()).hexdigest()
    assert not [key for key in _objects(moto, s3) if key.endswith(digest)]
    _assert_complete_blobs_only(moto, s3)


def test_gc_removes_temporary_keys_and_unreferenced_blobs_on_s3(moto, s3):
    with nbtrack.track("s3") as kept:
        nbtrack.log_artifact(b"kept", name="kept.bin")
    with nbtrack.track("s3") as dropped:
        nbtrack.log_artifact(b"dropped", name="dropped.bin")
    nbtrack.delete_run(dropped.run_id)
    digest = hashlib.sha256(b"left by a killed copy").hexdigest()
    left = f"{s3}/{digest[:2]}/{digest}.{'0' * 32}.tmp"
    moto.client().put_object(Bucket=BUCKET, Key=left, Body=b"left by a killed copy")
    removed = nbtrack.get_store().collect_garbage(grace_seconds=0)
    assert removed["runs_purged"] == 1 and removed["blobs_removed"] == 1 and removed["temporary_files_removed"] == 1
    record = nbtrack.get_run(kept.run_id)
    addresses = {f"{s3}/{a.sha256[:2]}/{a.sha256}" for a in record.artifacts}
    assert set(_objects(moto, s3)) == addresses
