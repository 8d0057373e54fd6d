"""The ``nbtrack`` console script. Each layer registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from typing import Sequence

from .errors import NbtrackError

# Modules with a ``register(subparsers)`` function; a missing layer simply adds nothing.
COMMAND_MODULES = ("nbtrack.cli_core", "nbtrack.cli_db", "nbtrack.notebook.commands", "nbtrack.dashboards.commands",
                   "nbtrack.interop.commands", "nbtrack.ui.commands", "nbtrack.registry.commands",
                   "nbtrack.sync.commands", "nbtrack.runner.commands")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbtrack", description="Notebook-native experiment tracking: list, inspect and compare runs.")
    parser.add_argument("--store", metavar="URI",
                        help="store URI or SQLite file (default: $NBTRACK_STORE, else the nearest .nbtrack/ "
                             "in this directory or a parent, as git finds its repository)")
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
    from . import config

    if args.store:
        config.set_store(args.store)
    try:
        if args.command in READ_ONLY_COMMANDS:
            config.existing_store_uri()  # a reader never creates a store: say where it looked
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the console script prints one line, never a traceback
        _print_error(args.command, error)
        return getattr(args, "error_status", 1)  # rerun: 2, as diff and cmp say "trouble"


# Commands that only read the store; run on a missing store they fail instead of creating one.
READ_ONLY_COMMANDS = frozenset({"ls", "show", "diff", "export", "experiments", "checkout", "report", "ui", "datasets"})


def _print_error(command: str, error: BaseException) -> None:
    """One line on stderr; errors that are not nbtrack's own name their type, lookups name the store."""
    from .cli_core import terminal_text
    from .config import store_uri
    from .store.sql import redact_uri

    known = isinstance(error, (NbtrackError, ValueError, LookupError, OSError, TypeError))
    text = str(error).strip() or type(error).__name__
    if not known:
        text = f"{type(error).__name__}: {text}"
    if isinstance(error, LookupError):
        text += f" (store: {redact_uri(store_uri())})"
    if isinstance(error, NbtrackError):  # its own message, e.g. a filter error's caret line
        line = terminal_text(text.rstrip())
    else:  # a driver's message can span lines and pages: one line, cut short
        line = " | ".join(part.strip() for part in text.splitlines() if part.strip())
        line = terminal_text(line if len(line) <= 600 else line[:599] + "…", keep_newlines=False)
    print(f"nbtrack {command}: error: {line}", file=sys.stderr)
    if os.environ.get("NBTRACK_DEBUG"):
        traceback.print_exception(error)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
