"""``nbtrack ui``: serve the dashboard as a read-only web page."""

from __future__ import annotations

import argparse
from typing import Any

from .server import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV


def _ui(args: argparse.Namespace) -> int:
    from .. import config
    from .server import UiSettings, serve

    settings = UiSettings(store_uri=config.existing_store_uri(), experiments=list(args.experiment or []),
                          filter=args.filter, host=args.host, port=args.port, token=args.token)
    return serve(settings)


def register(subparsers: Any) -> None:
    """Add ``ui`` to the ``nbtrack`` console script."""
    parser = subparsers.add_parser(
        "ui", help="serve the dashboard as a read-only web page (for teammates without a notebook)",
        description="Serve the dashboard as a read-only web page with Voilà: filter, sort, page, plot and "
                    "compare runs in a browser, without a notebook. Bound to 127.0.0.1 and protected by a "
                    "token (printed with the URL); the store is opened read-only. Needs "
                    "pip install 'nbtrack[ui]'.")
    parser.add_argument("-e", "--experiment", action="append", metavar="NAME",
                        help="experiment the page starts with (repeat for several; default: all)")
    parser.add_argument("-f", "--filter", metavar="FILTER", help="filter the page starts with, e.g. "
                        "\"metrics.acc > 0.8\" (the page can change it)")
    parser.add_argument("--host", default=DEFAULT_HOST, metavar="H",
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; "
                             "0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, metavar="N",
                        help=f"port (default: the first free one from {DEFAULT_PORT})")
    parser.add_argument("--token", metavar="T", help=f"the token every request needs (default: ${TOKEN_ENV}, "
                        "else a new random one, printed with the URL). A token on the command line is "
                        "visible to other users of this machine: prefer the variable")
    parser.set_defaults(func=_ui)
