"""``nbtrack sync --to URI`` / ``--from URI``: copy runs between the local store and a team store."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    sync = subparsers.add_parser(
        "sync", help="copy runs to a team store (--to) or from it (--from), incrementally",
        description="Copy runs between the local store (--store, $NBTRACK_STORE or the discovered one) and a team "
                    "store: --to sends the local runs changed since the last sync to it, --from brings its runs "
                    "down for offline work. Only what the other store lacks is sent; an interrupted sync is "
                    "completed by the next one. Edits (names, deletes, tags) carry their time: the later one wins.")
    direction = sync.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to", metavar="URI", help="the team store to send local runs to")
    direction.add_argument("--from", dest="source", metavar="URI", help="the team store to bring runs down from")
    sync.add_argument("--artifacts", metavar="URL",
                      help="where the team store keeps artifact blobs (e.g. s3://bucket/prefix; any fsspec URL). "
                           "Recorded in a team store that records none, so teammates need not pass it")
    sync.add_argument("-e", "--experiment", action="append", help="only runs of this experiment (repeatable)")
    sync.add_argument("--filter", "-f", help="only runs matching this filter, e.g. \"attributes.user = 'ana'\"")
    sync.add_argument("-q", "--quiet", action="store_true", help="print nothing when all went well")
    sync.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from . import sync_from, sync_to

    progress = _progress if sys.stderr.isatty() and not args.quiet else None
    if args.to:
        report = sync_to(args.to, artifacts=args.artifacts, experiments=args.experiment, filter=args.filter,
                         progress=progress)
        verb = f"sent to {report.target}"
    else:
        report = sync_from(args.source, artifacts=args.artifacts, experiments=args.experiment, filter=args.filter,
                           progress=progress)
        verb = f"brought down from {report.source}"
    if progress is not None:
        print(file=sys.stderr)
    if not args.quiet or report.skipped_artifacts:
        print(f"{verb}: {report.summary()}")
    return 0


def _progress(report) -> None:
    print(f"\r  {report.runs:,} runs, {report.points:,} points ...", end="", file=sys.stderr, flush=True)
