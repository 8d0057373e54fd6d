"""What registering and loading a model version costs beyond the artifact's own I/O.

On a temporary SQLite store and, when PostgreSQL is installed (or ``--pg URI`` names a server),
a throw-away PostgreSQL cluster. For each: the median of N calls of

- ``register_model(run_id, artifact, name)``: a new version (its floor is zero: it reads no artifact);
- ``load_model("models:/NAME@champion")`` against its floor, the artifact's own I/O and
  deserialization: ``blobs.read_bytes(sha)`` then ``skops.io.loads`` / ``pickle.loads``;
- ``log_dataset`` of a 100,000-row DataFrame: fingerprint only (``store=False``), the first stored
  copy (parquet), and a later run's (the copy reused).

Prints each figure, the overhead, and the machine's load.

    python benchmarks/bench_registry.py [-n 30] [--pg postgresql://user@host/db] [--no-pg]
"""

from __future__ import annotations

import argparse
import glob
import os
import pickle
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_MS = 50.0


def _ms(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def median_ms(call, n: int) -> float:
    return statistics.median(_ms(call) for _ in range(n))


def paired_ms(call, floor, n: int) -> tuple[float, float, float]:
    """Medians of ``call``, of ``floor``, and of their per-pair difference, run alternately so that
    the machine's drift hits both alike."""
    pairs = [(_ms(call), _ms(floor)) for _ in range(n)]
    return (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs),
            statistics.median(p[0] - p[1] for p in pairs))


def models():
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.normal(size=(2000, 20))
    labels = (features[:, 0] > 0).astype(int)
    return {"logistic (skops)": ("logistic.skops", LogisticRegression().fit(features, labels), None),
            "forest, 100 trees (skops)": ("forest.skops", RandomForestClassifier(
                n_estimators=100, max_depth=8, random_state=0).fit(features, labels), ["sklearn.tree._tree.Tree"]),
            "forest, 100 trees (pickle)": ("forest.pkl", None, True)}


def bench_model(store, run_id: str, title: str, artifact: str, trust, n: int) -> None:
    """One row: register N versions, then load one N times beside its floor."""
    import skops.io as sio

    import nbtrack

    name = f"bench-{uuid.uuid4().hex[:6]}"
    nbtrack.register_model(run_id, artifact, name)  # warm: statements compiled, connections pooled
    nbtrack.load_model(f"models:/{name}/1", trust=trust or False)
    register = median_ms(lambda: nbtrack.register_model(run_id, artifact, name), n)
    version = nbtrack.register_model(run_id, artifact, name, alias="champion")
    data_of = lambda: store.blobs.read_bytes(version.sha256)  # noqa: E731
    if artifact.endswith(".skops"):
        def floor():
            return sio.loads(data_of(), trusted=trust)
    else:
        def floor():
            return pickle.loads(data_of())  # noqa: S301 - our own file
    load_ms, floor_ms, overhead = paired_ms(
        lambda: nbtrack.load_model(f"models:/{name}@champion", trust=trust or False), floor, n)
    verdict = "ok" if register < TARGET_MS and overhead < TARGET_MS else f"over {TARGET_MS:.0f} ms"
    print(f"  {title:<28} {version.size / 1024:>7.0f}KB {register:>8.1f}ms {load_ms:>8.1f}ms "
          f"{floor_ms:>8.1f}ms {overhead:>8.1f}ms  {verdict}")


def bench_store(label: str, uri: str, n: int) -> None:
    import numpy as np
    import pandas as pd

    import nbtrack

    nbtrack.set_store(uri)
    with nbtrack.track("bench") as run:
        specs = models()
        forest = specs["forest, 100 trees (skops)"][1]
        for name, model, _trust in specs.values():
            nbtrack.log_artifact(model if model is not None else forest, name)
    store = nbtrack.get_store()
    print(f"\n{label}")
    print(f"  {'model':<28} {'size':>9} {'register':>10} {'load':>10} {'floor':>10} {'overhead':>10}")
    print(f"  {'':<28} {'':>9} {'':>10} {'':>10} {'(read+loads)':>10} {'(median of pairs)':>10}")
    for title, (artifact, _model, trust) in specs.items():
        bench_model(store, run.run_id, title, artifact, trust, n)

    rows = 100_000
    frame = pd.DataFrame({"a": np.arange(rows), "b": np.linspace(0, 1, rows), "c": [f"s{i % 97}" for i in range(rows)]})
    with nbtrack.track("bench"):
        fingerprint_only = median_ms(lambda: nbtrack.log_dataset(frame, "plain", store=False), max(3, n // 5))
        first = median_ms(lambda: nbtrack.log_dataset(frame.assign(d=uuid.uuid4().hex), "fresh"), max(3, n // 5))
        nbtrack.log_dataset(frame, "train")
    nbtrack.flush()
    with nbtrack.track("bench"):
        reused = median_ms(lambda: nbtrack.log_dataset(frame, "train"), max(3, n // 5))
    print(f"  log_dataset, {rows:,}-row DataFrame: fingerprint only {fingerprint_only:.1f} ms, first stored copy "
          f"{first:.1f} ms (+{first - fingerprint_only:.1f}), a later run's (copy reused) {reused:.1f} ms "
          f"(+{reused - fingerprint_only:.1f})")
    nbtrack.flush()
    store.close()
    nbtrack.set_store(None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_postgres():
    """A PostgreSQL cluster on a free loopback port (Debian's initdb/pg_ctl), or None."""
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not bindirs:
        yield None
        return
    bindir, work = bindirs[0], Path(tempfile.mkdtemp(prefix="nbtrack-bench-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(work, "postgres")
    port = _free_port()
    subprocess.run(as_user + [f"{bindir}/initdb", "-D", str(work / "data"), "-U", "postgres", "--auth=trust",
                              "--no-sync"], check=True, capture_output=True)
    subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(work / "data"), "-l", str(work / "log"), "-w", "-o",
                              f"-p {port} -k {work} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(work / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30, help="calls per figure (default 30)")
    parser.add_argument("--pg", help="a PostgreSQL URI to use instead of a throw-away cluster")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} cores; "
          f"medians of {args.n} calls; target: under {TARGET_MS:.0f} ms beyond the artifact's own I/O")
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        os.environ["NBTRACK_CACHE"] = os.path.join(tmp, "cache")
        bench_store("SQLite", f"sqlite:///{tmp}/bench.db", args.n)
        if not args.no_pg:
            with (throwaway_postgres() if not args.pg else _given(args.pg)) as uri:
                if uri is None:
                    print("\nPostgreSQL: not installed here (pass --pg URI)")
                else:
                    bench_store("PostgreSQL (loopback)", uri, args.n)
    print(f"\nload average after {os.getloadavg()[0]:.2f}")


@contextmanager
def _given(uri: str):
    yield uri


if __name__ == "__main__":
    main()
