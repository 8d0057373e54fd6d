"""The dashboard layer's CLI subcommands: ``nbtrack report``."""

from __future__ import annotations

import argparse
from typing import Any


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    experiments = args.experiment
    experiment: Any = None if not experiments else experiments[0] if len(experiments) == 1 else experiments
    path = write_report(experiment=experiment, path=args.output, filter=args.filter)
    print(path)
    return 0


def register(subparsers: Any) -> None:
    """Add ``report`` to the ``nbtrack`` console script."""
    parser = subparsers.add_parser(
        "report", help="write the runs table and plots as one self-contained HTML file",
        description="Write an experiment's runs table and plots to one HTML file that works offline "
                    "(plotly.js inline), to send to a colleague.")
    parser.add_argument("-e", "--experiment", action="append", metavar="NAME",
                        help="experiment to report (repeat for several; default: all)")
    parser.add_argument("-f", "--filter", metavar="FILTER", help="only runs matching this filter, "
                        "e.g. \"metrics.acc > 0.8 and params.model = 'rf'\"")
    parser.add_argument("-o", "--output", default="report.html", metavar="PATH",
                        help="where to write the report (default: report.html)")
    parser.set_defaults(func=_report)
