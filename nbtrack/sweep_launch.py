"""The launch context of a kernel started by ``nbtrack sweep`` or ``nbtrack rerun``.

The launcher sets ``NBTRACK_LAUNCH`` in the kernel's environment to a JSON object; every run
the kernel's process starts (:class:`nbtrack.run.Run`) reads it:

- ``tags`` (every run, nested ones too): e.g. ``{"nbtrack.launch": "<id>"}``, which lets the
  launcher find the runs of its execution;
- ``parent_run_id``, ``experiment`` and ``params`` (top-level runs only, i.e. runs with no
  parent in the process): the sweep's parent run, the sweep's experiment (it wins over the
  notebook's own ``experiment=``) and the swept values, recorded as params;
- ``reuse``: False in a kernel of ``nbtrack rerun``, where ``%%track --reuse`` must run the cell.

Kept out of the notebook itself on purpose: a child run's snapshot holds the injected
parameter values but no link to the sweep, so re-running it is an ordinary re-run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

VARIABLE = "NBTRACK_LAUNCH"


@dataclass(frozen=True)
class LaunchContext:
    """What a launcher asks of the runs of the process it started."""

    tags: dict[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    experiment: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    reuse: bool = True  # whether %%track --reuse may skip a cell (not in a re-run, which must run everything)

    def to_env(self) -> str:
        """The value of ``NBTRACK_LAUNCH`` that describes this context."""
        return json.dumps({"tags": self.tags, "parent_run_id": self.parent_run_id, "experiment": self.experiment,
                           "params": self.params, "reuse": self.reuse}, sort_keys=True)


_cache: tuple[str, LaunchContext | None] | None = None


def launch_context() -> LaunchContext | None:
    """The context ``NBTRACK_LAUNCH`` describes, or None (not set, or not valid JSON)."""
    global _cache
    text = os.environ.get(VARIABLE)
    if not text:
        return None
    if _cache is not None and _cache[0] == text:
        return _cache[1]
    try:
        data = json.loads(text)
        context = LaunchContext(
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
            parent_run_id=data.get("parent_run_id") or None,
            experiment=data.get("experiment") or None,
            params=dict(data.get("params") or {}), reuse=data.get("reuse", True) is not False)
    except (ValueError, TypeError, AttributeError):
        context = None
    _cache = (text, context)
    return context


def apply_launch_context(experiment: str | None, tags: dict | None, params: dict | None,
                         top_level: bool) -> tuple[str | None, dict | None, dict | None, str | None]:
    """(experiment, tags, params, parent_run_id) for a new run, with the launch context applied.

    ``top_level``: the run has no parent in this process. The caller's tags and params win
    over the launcher's when both name the same key."""
    context = launch_context()
    if context is None:
        return experiment, tags, params, None
    tags = {**context.tags, **(tags or {})} if context.tags else tags
    if not top_level:
        return experiment, tags, params, None
    params = {**context.params, **(params or {})} if context.params else params
    return context.experiment or experiment, tags, params, context.parent_run_id
