"""v4 -> v5: the model registry's tables (registered models, versions, aliases, tags)."""

from sqlalchemy.engine import Connection

from .. import schema as s

FROM_VERSION = 4


def upgrade(connection: Connection) -> None:
    for table in (s.registered_models, s.model_versions, s.model_aliases, s.model_tags, s.model_version_tags):
        table.create(connection)
