"""Which metric leads when one run or one report shows a single number: one preference list."""

from __future__ import annotations

from typing import Iterable

# Shown as the headline when present, in this order (case-insensitive); else the first by name.
HEADLINE_PREFERENCE: tuple[str, ...] = (
    "accuracy", "acc", "val_accuracy", "val_acc", "test_accuracy", "f1", "auc", "roc_auc",
    "r2", "score", "val_loss", "loss", "rmse", "mae", "mse",
)


def headline_key(keys: Iterable[str]) -> str | None:
    """The preferred metric among ``keys``: an exact preferred name, then one ending in
    ``_<preferred name>``, else the first by name; None when there are no keys."""
    keys = sorted(keys)
    keys = [key for key in keys if not key.startswith("system/")] or keys  # CPU/memory lead nothing
    lowered = {key.lower(): key for key in reversed(keys)}
    for name in HEADLINE_PREFERENCE:
        if name in lowered:
            return lowered[name]
    for name in HEADLINE_PREFERENCE:
        for key in keys:
            if key.lower().endswith("_" + name):
                return key
    return keys[0] if keys else None
