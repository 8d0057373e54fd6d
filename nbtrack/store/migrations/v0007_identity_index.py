"""v6 -> v7: a partial index on the ``nbtrack.identity`` tag's values (``schema.identity_index``),
which %%track looks up before a cell runs to find an identical finished run."""

from sqlalchemy.engine import Connection

from .. import schema as s

FROM_VERSION = 6


def upgrade(connection: Connection) -> None:
    s.identity_index.create(connection)
