"""The ``rerun`` and ``sweep`` subcommands of the ``nbtrack`` CLI."""

from __future__ import annotations

import argparse
import sys

from ..cli_core import echo


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``rerun`` and ``sweep`` to the CLI."""
    rerun = subparsers.add_parser(
        "rerun", help="execute a run's notebook snapshot again in a fresh kernel and verify its metrics",
        description="Check out the run's notebook snapshot, execute it in a fresh kernel and compare every metric "
                    "the run logged with the re-run's. The run is tagged verified or diverged; with -p the re-run is a "
                    "'rerun with changes' and the run's verdict is left alone. Exit status: 0 verified (or rerun "
                    "with changes), 1 diverged, 2 could not re-run.")
    rerun.add_argument("run", help="run id or unique prefix")
    rerun.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                       help="override a parameter (repeatable); values are Python literals, else strings")
    rerun.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    rerun.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default 0: exact)")
    rerun.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (default 0)")
    rerun.add_argument("-o", "--output", metavar="OUT", help="keep the executed notebook here")
    rerun.set_defaults(func=cmd_rerun, error_status=2)

    sweep = subparsers.add_parser(
        "sweep", help="run a notebook once per combination of parameter values",
        description="Execute the notebook once per combination of the -p values, N kernels at a time. Each "
                    "combination's runs record the values as params and are children of one sweep run.")
    sweep.add_argument("notebook", help="path of the .ipynb")
    sweep.add_argument("-p", "--param", action="append", default=[], metavar="KEY=V1,V2",
                       help="a parameter and its values, comma-separated (repeatable; the grid is their product)")
    sweep.add_argument("-j", "--jobs", type=int, default=1, help="kernels at a time (default 1)")
    sweep.add_argument("-e", "--experiment", help="experiment of the sweep and all its runs")
    sweep.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    sweep.add_argument("--metric", help="the metric shown in the summary (default: the headline metric)")
    sweep.add_argument("-o", "--output-dir", metavar="DIR", help="keep each combination's executed notebook here")
    sweep.set_defaults(func=cmd_sweep)


def cmd_rerun(args: argparse.Namespace) -> int:
    from .compare import DIVERGED
    from .params import parse_overrides
    from .rerun import rerun

    overrides = parse_overrides(args.param)
    result = rerun(args.run, overrides, timeout=args.timeout, rtol=args.rtol, atol=args.atol, output=args.output,
                   say=lambda line: echo(line, file=sys.stderr))
    comparison = result.comparison
    echo(comparison.headline())
    for difference in comparison.differences[1:]:
        echo(f"  also: {difference.text()}")
    for note in comparison.notes:
        echo(f"  note: {note}")
    if comparison.verdict == DIVERGED:
        for cause in comparison.causes:
            echo(f"  likely cause: {cause}")
    original = result.original.run_id[:8]
    if result.rerun is not None:
        linked = f"the re-run {result.rerun.run_id[:8]} links to {original} (nbtrack.rerun_of)"
    else:
        linked = "the re-run tracked no run of the cell"
    marked = f"{original} is marked {comparison.verdict}; " if comparison.verdict != "changed" else ""
    echo(f"{marked}{linked}" + (f"; executed notebook: {result.notebook}" if result.notebook else ""))
    return 1 if comparison.verdict == DIVERGED else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import run_sweep

    outcome = run_sweep(args.notebook, args.param, jobs=args.jobs, experiment=args.experiment,
                        timeout=args.timeout, metric=args.metric, output_dir=args.output_dir)
    return 1 if outcome.failed else 0
