"""The ``nbtrack`` console script. Each layer registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .errors import NbtrackError

# Modules with a ``register(subparsers)`` function; a missing layer simply adds nothing.
COMMAND_MODULES = ("nbtrack.cli_core", "nbtrack.notebook.commands", "nbtrack.dashboards.commands")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbtrack", description="Notebook-native experiment tracking: list, inspect and compare runs.")
    parser.add_argument("--store", metavar="URI",
                        help="store URI or SQLite file (default: $NBTRACK_STORE or ./.nbtrack/nbtrack.db)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and name.startswith(error.name):
                continue
            raise
        module.register(subparsers)
    for subparser in subparsers.choices.values():  # `nbtrack ls --store x.db` works too
        if "--store" not in subparser._option_string_actions:
            subparser.add_argument("--store", metavar="URI", default=argparse.SUPPRESS,
                                   help="store URI or SQLite file (same as before the command)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit status; user errors print one clear message, no traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.store:
        from .config import set_store

        set_store(args.store)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 0
    except (NbtrackError, ValueError, LookupError, OSError, TypeError) as error:  # OSError: e.g. -o a directory
        print(f"nbtrack {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
