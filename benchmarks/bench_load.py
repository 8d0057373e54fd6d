"""Load test: many writers and readers on one PostgreSQL store, through direct writes and sync at once.

    python benchmarks/bench_load.py [--seconds 90] [--writers 20] [--readers 5] [--postgres URI] [--json FILE]

Half the writers log straight to PostgreSQL (``NBTRACK_STORE``); the other half log to a local SQLite
store each and mirror it in the background (``NBTRACK_SYNC_TO``), one of them also synced by hand
(``nbtrack sync --to``) in a loop at the same time. Each writer starts run after run for ``--seconds``
seconds (each run a few hundred points, logged in bursts) and writes down every point it logged.
The readers list, count, open runs and read metric histories meanwhile. Then whatever the writers'
exit did not send is sent by one last ``nbtrack sync --to`` per local store, and every point is
counted in PostgreSQL: none may be missing and none stored twice.

Everything stays on loopback and stops by itself (writers after ``--seconds``; any process still
alive 180 s later is killed and the test fails). ``tests/core/test_load.py`` runs a short version.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

WRITER = """
import json, os, sys, time, nbtrack
seconds, manifest_path, writer = float(sys.argv[1]), sys.argv[2], sys.argv[3]
deadline = time.time() + seconds
logged = {}
number = 0
while time.time() < deadline:
    with nbtrack.track("load", params={"writer": writer, "number": number}, tags={"via": os.environ["VIA"]}) as run:
        points = 0
        for burst in range(3 + number % 4):
            for _ in range(100):
                nbtrack.log_metric("m", points * 0.5, step=points)
                points += 1
            time.sleep(0.2)
        logged[run.run_id] = points
    number += 1
with open(manifest_path, "w") as handle:
    json.dump(logged, handle)
"""

READER = """
import json, random, sys, time, nbtrack
deadline = time.time() + float(sys.argv[1])
done = {"queries": 0, "errors": []}
while time.time() < deadline:
    try:
        frame = nbtrack.runs("load", filter="metrics.m >= 0", order_by="metrics.m DESC", max_results=100)
        nbtrack.count_runs("load")
        done["queries"] += 2
        if len(frame):
            run_id = random.choice(list(frame["run_id"]))
            nbtrack.get_run(run_id).metric_history("m")
            nbtrack.metric_histories(list(frame["run_id"][:10]), "m")
            done["queries"] += 2
    except Exception as error:  # noqa: BLE001 - counted and reported
        done["errors"].append(f"{type(error).__name__}: {error}"[:300])
    time.sleep(0.1)
print(json.dumps(done))
"""

SYNC_LOOP = """
import os, subprocess, sys, time
deadline = time.time() + float(sys.argv[1])
passes = 0
while time.time() < deadline:
    if not os.path.exists(sys.argv[2].split("///", 1)[1]):  # the writer has not made its store yet
        time.sleep(0.5)
        continue
    subprocess.run([sys.executable, "-m", "nbtrack.cli", "--store", sys.argv[2], "sync", "--to", sys.argv[3], "-q"],
                   check=True)
    passes += 1
print(passes)
"""

COUNT = """
import json, sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as connection:
    points = dict(connection.execute(text("SELECT run_id, count(*) FROM metrics GROUP BY run_id")).all())
    distinct = connection.execute(text(
        "SELECT count(*) FROM (SELECT DISTINCT run_id, key, step FROM metrics) d")).scalar()
    statuses = dict(connection.execute(text("SELECT run_id, status FROM runs")).all())
print(json.dumps({"points": points, "distinct": distinct, "statuses": statuses}))
"""


def run_load(team: str, workdir: str, seconds: float = 90.0, writers: int = 20, readers: int = 5) -> dict:
    """Run the load against the (empty) PostgreSQL database ``team``; returns what was logged and found."""
    work = Path(workdir)
    base = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "XDG_CACHE_HOME": str(work / "cache"), "NBTRACK_SYNC_INTERVAL": "1", "NBTRACK_SYNC_EXIT_TIMEOUT": "20",
            "NBTRACK_ARTIFACTS": str(work / "team-artifacts")}
    base.pop("NBTRACK_STORE", None)
    from nbtrack.store.sql import SqlStore

    SqlStore(team).close()  # the schema exists before the crowd arrives
    locals_ = [f"sqlite:///{work / f'laptop{n}' / 'nbtrack.db'}" for n in range(writers // 2)]
    started = time.time()
    processes: list[tuple[str, subprocess.Popen]] = []
    for n in range(writers):
        synced = n < len(locals_)
        env = {**base, "VIA": "sync" if synced else "direct"}
        if synced:
            env.update(NBTRACK_STORE=locals_[n], NBTRACK_SYNC_TO=team)
        else:
            env["NBTRACK_STORE"] = team
        processes.append(("writer", subprocess.Popen(
            [sys.executable, "-c", WRITER, str(seconds), str(work / f"manifest{n}.json"), str(n)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for _ in range(readers):
        processes.append(("reader", subprocess.Popen([sys.executable, "-c", READER, str(seconds)],
                                                     env={**base, "NBTRACK_STORE": team}, stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE, text=True)))
    processes.append(("sync-loop", subprocess.Popen([sys.executable, "-c", SYNC_LOOP, str(seconds), locals_[0], team],
                                                    env=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                    text=True)))
    outcome: dict = {"writers": writers, "readers": readers, "seconds": seconds, "reader_queries": 0,
                     "reader_errors": [], "failures": []}
    for kind, process in processes:
        try:
            out, err = process.communicate(timeout=max(0.0, started + seconds + 180 - time.time()))
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            outcome["failures"].append(f"a {kind} was still running 180 s after the end and was killed")
        if process.returncode != 0:
            outcome["failures"].append(f"a {kind} exited with {process.returncode}: {err[-2000:]}")
        elif kind == "reader":
            done = json.loads(out.strip().splitlines()[-1])
            outcome["reader_queries"] += done["queries"]
            outcome["reader_errors"] += done["errors"]
    outcome["writers_done_s"] = time.time() - started
    final_start = time.time()
    final_runs = 0
    for local in locals_:  # what the writers' exit could not send
        result = subprocess.run([sys.executable, "-m", "nbtrack.cli", "--store", local, "sync", "--to", team],
                                env=base, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            outcome["failures"].append(f"the final sync of {local} failed: {result.stderr}")
        else:
            final_runs += int(result.stdout.split(": ", 1)[1].split(" runs")[0].replace(",", ""))
    outcome["final_sync_s"] = time.time() - final_start
    outcome["final_sync_runs"] = final_runs
    logged: dict[str, int] = {}
    for n in range(writers):
        path = work / f"manifest{n}.json"
        if path.exists():
            logged.update(json.loads(path.read_text()))
    counted = json.loads(subprocess.run([sys.executable, "-c", COUNT, team], env=base, capture_output=True,
                                        text=True, check=True).stdout)
    stored = counted["points"]
    outcome.update(
        runs=len(logged), points=sum(logged.values()), stored_points=sum(stored.values()),
        distinct_points=counted["distinct"],
        lost=sum(max(0, n - stored.get(run_id, 0)) for run_id, n in logged.items()),
        duplicated=sum(stored.values()) - counted["distinct"],
        unexpected_runs=len(set(stored) - set(logged)),
        not_finished=sum(counted["statuses"].get(run_id) != "FINISHED" for run_id in logged))
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the writers and readers work")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--readers", type=int, default=5)
    parser.add_argument("--postgres", metavar="URI", help="an admin URI of a server (default: a throw-away cluster)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests" / "core"))
    sys.path.insert(0, str(REPO))
    from pgcluster import fresh_database

    cluster = None
    admin = args.postgres
    if admin is None:
        from pgcluster import PostgresCluster, postgres_bin

        cluster = PostgresCluster(postgres_bin())
        admin = cluster.uri
    try:
        with tempfile.TemporaryDirectory() as workdir:
            load_before = os.getloadavg()
            outcome = run_load(fresh_database(admin, "bench_load"), workdir, args.seconds, args.writers, args.readers)
            load_after = os.getloadavg()
    finally:
        if cluster is not None:
            cluster.remove()
    print(f"\nnbtrack load test: {args.writers} writers (half direct, half through sync) and {args.readers} readers "
          f"on PostgreSQL, {args.seconds:.0f} s (python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {load_before[0]:.2f} before / {load_after[0]:.2f} after)\n")
    print(f"  runs logged            {outcome['runs']:>10,}   (not FINISHED in PostgreSQL: {outcome['not_finished']})")
    print(f"  points logged          {outcome['points']:>10,}   ({outcome['points'] / args.seconds:,.0f}/s)")
    print(f"  points in PostgreSQL   {outcome['stored_points']:>10,}   lost {outcome['lost']}, "
          f"duplicated {outcome['duplicated']}, runs nobody logged {outcome['unexpected_runs']}")
    queries = outcome["reader_queries"]
    print(f"  reader queries         {queries:>10,}   ({queries / args.seconds:,.1f}/s, "
          f"{len(outcome['reader_errors'])} errors)")
    print(f"  writers done after     {outcome['writers_done_s']:>10.1f} s; the last syncs sent "
          f"{outcome['final_sync_runs']} runs in {outcome['final_sync_s']:.1f} s")
    for failure in outcome["failures"] + outcome["reader_errors"][:5]:
        print(f"  ! {failure}")
    if args.json:
        Path(args.json).write_text(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
