"""Core subcommands: ls, show, diff, export, gc, experiments."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from typing import Any

import nbtrack

from .formatting import format_duration, format_number
from .systemtags import is_system_tag

# Control characters (C0, DEL, C1) and bidirectional overrides in run strings are shown escaped:
# a run name such as "x\x1b]0;owned\x07" must not retitle or clear the user's terminal.
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))} | {c: f"\\u{c:04x}" for c in _BIDI}
_ESCAPES_KEEPING_LINES = {c: e for c, e in _ESCAPES.items() if c not in (0x0A, 0x09)}


def terminal_text(value: Any, keep_newlines: bool = True) -> str:
    """``str(value)`` safe to print on a terminal: control characters shown as ``\\xNN`` escapes.

    ``keep_newlines`` keeps line feeds and tabs (multi-line notes, tracebacks); table cells pass False.
    """
    return str(value).translate(_ESCAPES_KEEPING_LINES if keep_newlines else _ESCAPES)


def echo(*parts: Any, sep: str = " ", end: str = "\n", file: Any = None) -> None:
    """``print`` for every CLI line that can hold run strings (names, keys, values, notes)."""
    print(terminal_text(sep.join(str(p) for p in parts)), end=end, file=file)


def register(subparsers: argparse._SubParsersAction) -> None:
    ls = subparsers.add_parser("ls", help="list runs as a table")
    ls.add_argument("-e", "--experiment", action="append", help="experiment name (repeatable)")
    ls.add_argument("--filter", "-f", help="filter, e.g. \"metrics.acc > 0.8 and params.model = 'rf'\"")
    ls.add_argument("--sort", "-s", action="append", help="order, e.g. 'metrics.acc DESC' (repeatable)")
    ls.add_argument("-n", "--max-results", type=int, default=50, help="rows to show (default 50; 0 for all)")
    ls.add_argument("--all-columns", action="store_true", help="show every param, metric and tag column")
    ls.set_defaults(func=cmd_ls)

    show = subparsers.add_parser("show", help="everything recorded about one run")
    show.add_argument("run", help="run id or unique prefix")
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.set_defaults(func=cmd_show)

    diff = subparsers.add_parser("diff", help="differences between two runs")
    diff.add_argument("run_a")
    diff.add_argument("run_b")
    diff.add_argument("--source", action="store_true", help="unified diff of the two notebook snapshots")
    diff.set_defaults(func=cmd_diff)

    export = subparsers.add_parser("export", help="runs as CSV or JSON")
    export.add_argument("-e", "--experiment", action="append")
    export.add_argument("--filter", "-f")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    from .interop.commands import add_export_arguments  # `nbtrack export mlflow TARGET`

    add_export_arguments(export)
    export.set_defaults(func=cmd_export)

    gc = subparsers.add_parser("gc", help="purge deleted runs and artifact blobs no run references")
    gc.add_argument("--dry-run", action="store_true", help="only report what would be removed")
    gc.add_argument("--grace", type=float, default=3600.0,
                    help="keep blobs younger than this many seconds (default 3600)")
    gc.set_defaults(func=cmd_gc)

    experiments = subparsers.add_parser("experiments", help="list experiments with run counts")
    experiments.set_defaults(func=cmd_experiments)


def _time(value: Any) -> str:
    if value is None or value != value:
        return ""
    if hasattr(value, "to_pydatetime"):
        value = value.timestamp()
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: Any) -> str:
    return format_duration(seconds)


def _value(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return format_number(value, digits=6)
    text = terminal_text(value, keep_newlines=False)
    return text if len(text) <= 24 else text[:23] + "…"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def cmd_ls(args: argparse.Namespace) -> int:
    import warnings

    from .store.keys import UnknownKeyWarning

    with warnings.catch_warnings(record=True) as caught:  # said once below, as a note
        warnings.simplefilter("always", UnknownKeyWarning)
        frame = nbtrack.runs(args.experiment, filter=args.filter, order_by=args.sort,
                             max_results=args.max_results or None)
    for warning in caught:
        if issubclass(warning.category, UnknownKeyWarning):
            print(f"nbtrack ls: note: {terminal_text(str(warning.message), keep_newlines=False)}", file=sys.stderr)
    if frame.empty:
        echo("no runs" + (" match the filter" if args.filter else ""))
        return 0
    columns = [c for c in frame.columns if c.startswith(("params.", "metrics.", "tags."))
               and not c.startswith("tags.nbtrack.")]
    if not args.all_columns:
        varying = [c for c in columns if c.startswith("params.") and frame[c].astype(str).nunique() > 1]
        metrics = [c for c in columns if c.startswith("metrics.")]
        columns = (varying + metrics)[:8]
    headers = ["run", "experiment", "name", "status", "started", "duration"] + columns
    rows = [[r["run_id"][:8], _value(r["experiment"]), _value(r["name"]), r["status"], _time(r["start_time"]),
             _duration(r["duration"])] + [_value(r[c]) for c in columns] for _, r in frame.iterrows()]
    echo(_table(headers, rows))
    total = nbtrack.count_runs(args.experiment, filter=args.filter)
    if total > len(frame):
        echo(f"({len(frame)} of {total} runs; -n 0 shows all)")
    return 0


def _section(title: str, mapping: dict) -> None:
    if not mapping:
        return
    echo(f"\n{title}:")
    width = max(len(str(k)) for k in mapping)
    for key, value in mapping.items():
        echo(f"  {str(key).ljust(width)}  {value}")


def _non_finite(value: float) -> str:
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _strict_json(value: Any) -> Any:
    """``value`` with NaN and infinities as the strings "NaN", "Infinity", "-Infinity" (standard JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    return value


def cmd_show(args: argparse.Namespace) -> int:
    run = nbtrack.get_run(args.run)
    if args.json:
        payload = run.to_dict()
        payload["environment"] = run.environment
        payload["lineage"] = run.lineage.to_dict()  # registered versions, datasets and models used
        echo(json.dumps(_strict_json(payload), indent=2, default=str, allow_nan=False))
        return 0
    echo(f"run {run.run_id}  {run.name}")
    echo(f"experiment {run.experiment}  status {run.status}{'  (deleted)' if run.deleted else ''}")
    echo(f"started {_time(run.start_time)}  duration {_duration(run.duration)}"
         + (f"  by {run.user or '?'} on {run.host or '?'}" if run.user or run.host else ""))
    if run.parent_run_id:
        echo(f"parent {run.parent_run_id}")
    from .runner.verdict import verdict_lines  # verified / diverged by `nbtrack rerun`, or a re-run of another

    for line in verdict_lines(run):
        echo(line)
    _section("params", {k: json.dumps(v) if not isinstance(v, str) else v for k, v in run.params.items()})
    _section("metrics", {k: f"{v:.6g}" for k, v in run.metrics.items()})
    _section("tags", run.tags)
    if run.notes.strip():
        echo("\nnotes:\n  " + run.notes.strip().replace("\n", "\n  "))
    _section("datasets", {d["name"]: f"{d['fingerprint'][:12]} {d.get('shape', '')}" for d in run.datasets})
    _section("artifacts", {a.name: f"{a.kind}, {a.size} bytes, {a.sha256[:12]}" for a in run.artifacts})
    from .registry.commands import lineage_lines  # registered versions, stored datasets, models used

    for line in lineage_lines(run):
        echo(line)
    from .notebook.stored_snapshot import snapshot_note

    note = snapshot_note(run.document("notebook"))
    if note:
        echo(f"\nnotebook snapshot: {note}")
    hidden = (run.document("hidden_state") or {}).get("warnings") or []
    if hidden:  # the most likely cause; the document keeps them all, ranked
        more = f" (+{len(hidden) - 1} more in the run's hidden_state document)" if len(hidden) > 1 else ""
        echo(f"hidden state: {hidden[0]}{more}")
    environment = run.environment
    if environment:
        git = environment.get("git") or {}
        _section("environment", {
            "python": (environment.get("python") or {}).get("version"),
            "host": (environment.get("machine") or {}).get("hostname"),
            "git": f"{(git.get('commit') or '')[:10]} {git.get('branch') or ''}"
                   f"{' (uncommitted changes)' if git.get('dirty') else ''}" if git else "not a git repository",
            "packages": len(environment.get("packages") or {}),
        })
    if run.error:
        echo("\nerror:\n" + run.error.get("traceback", run.error.get("message", "")).rstrip())
    return 0


def environment_differences(a: dict, b: dict) -> dict[str, tuple]:
    """Differences between two environment documents worth showing."""
    out: dict[str, tuple] = {}
    pairs = {
        "python": ((a.get("python") or {}).get("version"), (b.get("python") or {}).get("version")),
        "hostname": ((a.get("machine") or {}).get("hostname"), (b.get("machine") or {}).get("hostname")),
        "git commit": ((a.get("git") or {}).get("commit"), (b.get("git") or {}).get("commit")),
        "git dirty": ((a.get("git") or {}).get("dirty"), (b.get("git") or {}).get("dirty")),
    }
    out.update({k: v for k, v in pairs.items() if v[0] != v[1]})
    packages_a, packages_b = a.get("packages") or {}, b.get("packages") or {}
    for name in sorted(set(packages_a) | set(packages_b)):
        if packages_a.get(name) != packages_b.get(name):
            out[f"package {name}"] = (packages_a.get(name), packages_b.get(name))
    return out


def cmd_diff(args: argparse.Namespace) -> int:
    if args.source:
        text = nbtrack.diff(args.run_a, args.run_b)
        echo(text if text.strip() else "notebook snapshots: identical", end="" if text.strip() else "\n")
        return 0
    a, b = nbtrack.get_run(args.run_a), nbtrack.get_run(args.run_b)
    echo(f"--- {a.run_id[:8]} {a.name}\n+++ {b.run_id[:8]} {b.name}")
    for title, left, right in (("params", a.params, b.params), ("metrics", a.metrics, b.metrics),
                               ("tags", a.tags, b.tags)):
        changed = {k: (left.get(k, _ABSENT), right.get(k, _ABSENT)) for k in sorted(set(left) | set(right))
                   if not _same(left.get(k, _ABSENT), right.get(k, _ABSENT))
                   and not (is_system_tag(k) and title == "tags")}
        _print_changes(title, changed)
    _print_changes("environment", environment_differences(a.environment, b.environment))
    from .registry.datadiff import dataset_changes, summary_lines  # did the two runs see the same data?

    echo("")
    for line in summary_lines(dataset_changes(a.datasets, b.datasets)):
        echo(line)
    return 0


_ABSENT = object()


def _same(left: Any, right: Any) -> bool:
    """Equal values; NaN equals NaN (two runs whose loss diverged did not differ there)."""
    if isinstance(left, float) and isinstance(right, float) and left != left and right != right:
        return True
    if isinstance(left, bool) or isinstance(right, bool):  # params keep types: True is not 1
        return type(left) is type(right) and left == right
    return left == right


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, float) and value != value:
        return "nan"
    return _value(value) or repr(value)


def _print_changes(title: str, changed: dict[str, tuple]) -> None:
    if not changed:
        echo(f"\n{title}: identical")
        return
    echo(f"\n{title}:")
    width = max(len(k) for k in changed)
    for key, (left, right) in changed.items():
        echo(f"  {key.ljust(width)}  {_shown(left)}  ->  {_shown(right)}")


def cmd_export(args: argparse.Namespace) -> int:
    if getattr(args, "system", None) == "mlflow":
        from .interop.commands import cmd_export_mlflow

        return cmd_export_mlflow(args)
    frame = nbtrack.runs(args.experiment, filter=args.filter)
    if args.format == "csv":
        text = frame.to_csv(index=False)
    else:  # infinities would become null, like a missing metric: write them as strings
        for column in [c for c in frame.columns if c.startswith("metrics.")]:
            values = frame[column]
            if values.abs().eq(math.inf).any():
                frame[column] = [_non_finite(v) if v in (math.inf, -math.inf) else v for v in values]
        text = frame.to_json(orient="records", date_format="iso", indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        echo(f"wrote {len(frame)} runs to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    result = nbtrack.get_store().collect_garbage(grace_seconds=args.grace, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    echo(f"{verb} {result['runs_purged']} deleted runs and {result['blobs_removed']} unreferenced blobs "
          f"({result['bytes_freed']} bytes)"
         + (f", and {result['temporary_files_removed']} temporary files of unfinished writes"
            if result.get("temporary_files_removed") else ""))
    return 0


def cmd_experiments(args: argparse.Namespace) -> int:
    frame = nbtrack.experiments()
    if frame.empty:
        echo("no experiments")
        return 0
    echo(_table(["experiment", "runs", "last run"],
                 [[_value(r["experiment"]), str(r["runs"]), _time(r["last_run"])] for _, r in frame.iterrows()]))
    return 0
