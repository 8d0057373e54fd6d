"""v3 -> v4: the per-run summary row read by runs() (nbtrack/store/summary.py), built for every run,
and an index on tags.key (key listings for filter suggestions, nbtrack/store/keys.py)."""

from sqlalchemy.engine import Connection

FROM_VERSION = 3


def upgrade(connection: Connection) -> None:
    from .. import schema as s
    from ..summary import build_summaries

    build_summaries(connection)
    next(index for index in s.tags.indexes if index.name == "ix_tags_key").create(connection)
