"""System tags: the keys nbtrack sets itself, all under one prefix (hidden by default in tables)."""

from __future__ import annotations

SYSTEM_TAG_PREFIX = "nbtrack."
SOURCE_TAG = SYSTEM_TAG_PREFIX + "source"
NOTEBOOK_TAG = SYSTEM_TAG_PREFIX + "notebook"
CELL_TAG = SYSTEM_TAG_PREFIX + "cell"
PREVIOUS_RUN_TAG = SYSTEM_TAG_PREFIX + "previous_run"
IDENTITY_TAG = SYSTEM_TAG_PREFIX + "identity"  # a %%track cell's content hash (indexed: schema.identity_index)


def is_system_tag(key: str) -> bool:
    """True for a tag nbtrack sets itself (``nbtrack.<name>``)."""
    return key.startswith(SYSTEM_TAG_PREFIX)
