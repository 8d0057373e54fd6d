"""Sync speed: a local SQLite store to PostgreSQL on loopback, and back.

    python benchmarks/bench_sync.py [--runs 1000] [--points 1000] [--postgres URI] [--json FILE]

Figures (each sync in a child process of this one: cold imports, nothing shared):

- the first ``nbtrack sync --to``: ``--runs`` runs (10 params, 3 tags, one metric of ``--points``
  points, a 1 KB artifact each) into an empty PostgreSQL database: runs/s and metric points/s;
- the next one with nothing changed (the cost of finding out), and one after 10 new runs and 50 edits;
- ``nbtrack sync --from`` of everything into an empty local store;
- the raw floors: the same points sent by psycopg's COPY into a bare table, and into one with the
  unique index that makes nbtrack's writes idempotent (what every point costs the server), points/s.

Without ``--postgres`` a throw-away cluster is started with Debian's initdb/pg_ctl on a free loopback
port (as in the tests). The machine's load is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "core"))

from pgcluster import fresh_database  # noqa: E402  - the tests' PostgreSQL helpers

FILL = """
import time, uuid
from nbtrack.store.batch import Batch
from nbtrack.store.sql import SqlStore
store = SqlStore(LOCAL)
start_time = time.time() - 86400
for first in range(FIRST, FIRST + RUNS, 50):
    batch = Batch()
    for number in range(first, min(first + 50, FIRST + RUNS)):
        run_id = uuid.UUID(int=number + 1).hex
        batch.creates.append((run_id, "bench", f"run-{number}", start_time + number, None, "ana", "laptop"))
        batch.params += [(run_id, f"p{k}", "f", str(k * 0.5), k * 0.5) for k in range(10)]
        batch.tags += [(run_id, f"t{k}", f"v{number % 7}", start_time) for k in range(3)]
        batch.metrics += [(run_id, "loss", step, 1.0 / (step + 1), start_time + number + step * 1e-3)
                          for step in range(POINTS)]
        batch.latest[(run_id, "loss")] = (POINTS - 1, 1.0 / POINTS, start_time + number + (POINTS - 1) * 1e-3)
        digest, size = store.blobs.put_bytes(run_id.encode() * 32)
        batch.artifacts.append(dict(run_id=run_id, name="model.bin", sha256=digest, size=size, kind="bytes",
                                    media_type="application/octet-stream", created_time=start_time))
        batch.ends.append((run_id, "FINISHED", start_time + number + 1))
    store.write_batch(batch)
print(json.dumps({"filled": RUNS}))
"""

EDIT = """
import uuid, nbtrack
nbtrack.set_store(LOCAL)
for number in range(50):
    nbtrack.tag_run(uuid.UUID(int=number + 1).hex, {"reviewed": "yes"})
print(json.dumps({"edited": 50}))
"""

SYNC = """
import time
from nbtrack.sync import sync_from, sync_to
start = time.perf_counter()
if DIRECTION == "to":
    report = sync_to(TEAM, artifacts=ARTIFACTS, local=LOCAL)
else:
    report = sync_from(TEAM, local=LOCAL)
print(json.dumps({"seconds": time.perf_counter() - start, "runs": report.runs, "points": report.points,
                  "blobs": report.blobs, "edits": report.edits, "complete": report.complete}))
"""

COPY_FLOOR = """
import time, psycopg
rows = [(f"{number:032x}", "loss", step, 1.0 / (step + 1), False, 1.7e9 + step)
        for number in range(RUNS) for step in range(POINTS)]
out = {"points": len(rows)}
with psycopg.connect(RAW) as connection:
    for table, index in (("bare", None), ("indexed", "(run_id, key, step, timestamp, is_nan, coalesce(value, 0))")):
        connection.execute(f"CREATE TABLE {table} (run_id text, key text, step bigint, value float8, "
                           "is_nan boolean, timestamp float8)")
        if index:  # the unique index that makes nbtrack's writes idempotent
            connection.execute(f"CREATE UNIQUE INDEX ux_{table} ON {table} {index}")
        connection.commit()
        start = time.perf_counter()
        with connection.cursor().copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        out[table] = time.perf_counter() - start
print(json.dumps(out))
"""


def child(code: str, env: dict, **names) -> dict:
    prelude = "import json\n" + "".join(f"{k} = {v!r}\n" for k, v in names.items())
    result = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
                            text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000, help="metric points per run")
    parser.add_argument("--postgres", metavar="URI", help="an admin URI of a server (default: a throw-away cluster)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    cluster = None
    admin = args.postgres
    if admin is None:
        from pgcluster import PostgresCluster, postgres_bin

        cluster = PostgresCluster(postgres_bin())
        admin = cluster.uri
    results: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory() as workdir:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
                   "XDG_CACHE_HOME": os.path.join(workdir, "cache")}
            env.pop("NBTRACK_STORE", None)
            env.pop("NBTRACK_ARTIFACTS", None)
            local = f"sqlite:///{os.path.join(workdir, 'laptop', 'nbtrack.db')}"
            team = fresh_database(admin, "bench_sync")
            artifacts = os.path.join(workdir, "team-artifacts")
            print(f"filling a local store with {args.runs:,} runs x {args.points:,} points ...", file=sys.stderr)
            child(FILL, env, LOCAL=local, FIRST=0, RUNS=args.runs, POINTS=args.points)
            load_before = os.getloadavg()
            names = dict(TEAM=team, ARTIFACTS=artifacts, LOCAL=local)
            results["first"] = child(SYNC, env, DIRECTION="to", **names)
            results["unchanged"] = child(SYNC, env, DIRECTION="to", **names)
            child(FILL, env, LOCAL=local, FIRST=args.runs, RUNS=10, POINTS=args.points)
            child(EDIT, env, LOCAL=local)
            results["after_10_runs_50_edits"] = child(SYNC, env, DIRECTION="to", **names)
            down = f"sqlite:///{os.path.join(workdir, 'offline', 'nbtrack.db')}"
            results["from"] = child(SYNC, env, DIRECTION="from", TEAM=team, ARTIFACTS=None, LOCAL=down)
            results["copy_floor"] = child(COPY_FLOOR, env, RAW=fresh_database(admin, "bench_raw").replace(
                "postgresql+psycopg://", "postgresql://"), RUNS=args.runs, POINTS=args.points)
            load_after = os.getloadavg()
    finally:
        if cluster is not None:
            cluster.remove()
    first, floor = results["first"], results["copy_floor"]
    print(f"\nnbtrack sync benchmark: local SQLite -> PostgreSQL {'(throw-away cluster) ' if cluster else ''}on "
          f"loopback (python {sys.version.split()[0]}, {os.cpu_count()} cores, load {load_before[0]:.2f} before / "
          f"{load_after[0]:.2f} after)\n")
    rate = first["points"] / first["seconds"]
    print(f"  first sync --to, {first['runs']:,} runs x {args.points:,} points   {first['seconds']:7.2f} s   "
          f"{first['runs'] / first['seconds']:8,.0f} runs/s  {rate:10,.0f} points/s")
    for label, key in (("raw floor: COPY of the points, no index", "bare"),
                       ("raw floor: COPY, with nbtrack's unique index", "indexed")):
        floor_rate = floor["points"] / floor[key]
        print(f"  {label:<47}{floor[key]:7.2f} s   {'':>13}  {floor_rate:10,.0f} points/s   "
              f"(sync: {rate / floor_rate:.2f} x)")
    for label, key in (("next sync, nothing changed", "unchanged"),
                       ("next sync, 10 new runs and 50 tag edits", "after_10_runs_50_edits")):
        r = results[key]
        print(f"  {label:<47}{r['seconds']:7.2f} s   {r['runs']:,} runs, {r['points']:,} points, {r['blobs']} blobs")
    down_ = results["from"]
    print(f"  sync --from into an empty local store            {down_['seconds']:7.2f} s   "
          f"{down_['runs'] / down_['seconds']:8,.0f} runs/s  {down_['points'] / down_['seconds']:10,.0f} points/s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
