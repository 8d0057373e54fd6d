"""v3 -> v4: the per-run summary row read by runs() (nbtrack/store/summary.py), built for every run."""

from sqlalchemy.engine import Connection

FROM_VERSION = 3


def upgrade(connection: Connection) -> None:
    from ..summary import build_summaries

    build_summaries(connection)
