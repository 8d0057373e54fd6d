"""v7 -> v8: ``metric_blocks``, the min/max of each metric per block of steps, computed from the
stored points (:mod:`nbtrack.store.blocks`); every later write keeps it up to date."""

from sqlalchemy.engine import Connection

from .. import blocks
from .. import schema as s

FROM_VERSION = 7


def upgrade(connection: Connection) -> None:
    s.metric_blocks.create(connection)
    blocks.backfill(connection)
