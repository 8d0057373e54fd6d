"""Per-step media of several runs, read for the media view and the report.

:func:`media_index` lists the media artifacts (kind ``media``, see :mod:`nbtrack.media`)
of some runs in one query: series names and steps only. The content of a step is read
only when it is shown (:func:`read_content`), so a run with 500 steps of a figure costs
one row each in the index and one blob read per run for the step on screen.
"""

from __future__ import annotations

import base64
import bisect
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from nbtrack.media import MEDIA_KIND, PLOTLY_TYPE, parse_media_name

from .figures import run_label
from .templating import macro, trusted


@dataclass(frozen=True)
class MediaItem:
    """One step of one run's media series (no content)."""

    run_id: str
    name: str
    step: int
    sha256: str
    media_type: str
    size: int

    @property
    def is_plotly(self) -> bool:
        return self.media_type == PLOTLY_TYPE


@dataclass
class MediaIndex:
    """``series[name][run_id]`` is the sorted list of that run's items of that series."""

    series: dict[str, dict[str, list[MediaItem]]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.series)

    def runs(self, name: str) -> list[str]:
        return list(self.series.get(name, {}))

    def steps(self, name: str) -> list[int]:
        """Every step any run logged for ``name``, ascending (the slider's stops)."""
        return sorted({item.step for items in self.series.get(name, {}).values() for item in items})

    def latest_step(self, name: str) -> int | None:
        steps = self.steps(name)
        return steps[-1] if steps else None

    def item_at(self, name: str, run_id: str, step: int) -> MediaItem | None:
        """The run's item at ``step``, else its latest one before it (a run logging every 5
        epochs still shows at epoch 7); None when the run has nothing up to ``step``."""
        items = self.series.get(name, {}).get(run_id) or []
        position = bisect.bisect_right([item.step for item in items], step)
        return items[position - 1] if position else None


def media_index(run_ids: Sequence[str], store: Any = None) -> MediaIndex:
    """The media series of ``run_ids`` (full ids), from the artifacts table, in one query."""
    from sqlalchemy import select

    from nbtrack.store import schema as s

    from .histories import _store

    store = store or _store()
    ids = list(dict.fromkeys(str(r) for r in run_ids))
    index = MediaIndex()
    if not ids:
        return index
    table = s.artifacts
    with store.read() as connection:
        rows = connection.execute(select(table.c.run_id, table.c.name, table.c.sha256, table.c.media_type,
                                         table.c.size).where(table.c.run_id.in_(ids), table.c.kind == MEDIA_KIND)).all()
    order = {run_id: i for i, run_id in enumerate(ids)}
    for run_id, artifact_name, sha256, media_type, size in sorted(rows, key=lambda r: order[r[0]]):
        parsed = parse_media_name(artifact_name)
        if parsed is None:
            continue
        name, step = parsed
        index.series.setdefault(name, {}).setdefault(run_id, []).append(
            MediaItem(run_id, name, step, sha256, media_type, int(size)))
    for by_run in index.series.values():
        for items in by_run.values():
            items.sort(key=lambda item: item.step)
    return index


def read_content(item: MediaItem, store: Any = None) -> bytes:
    """The stored bytes of one step."""
    from .histories import _store

    return (store or _store()).blobs.read_bytes(item.sha256)


def plotly_spec(data: bytes) -> dict:
    """The figure JSON of a plotly media step, for the ``application/vnd.plotly.v1+json`` mimetype."""
    spec = json.loads(data.decode("utf-8"))
    spec.setdefault("layout", {}).setdefault("height", 320)
    return spec


def data_uri(data: bytes, media_type: str) -> str:
    """A ``data:`` URI (an ``<img>`` never runs an SVG's scripts)."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class MediaCell:
    """What one run shows at the chosen step: its image, or why there is none."""

    run_id: str
    label: str
    step: int | None  # the step shown (may be earlier than the slider's)
    uri: str | None = None
    spec: dict | None = None
    note: str = ""


def media_cells(index: MediaIndex, name: str, run_ids: Sequence[str], step: int,
                labels: dict[str, str] | None = None, store: Any = None) -> list[MediaCell]:
    """One cell per run at ``step``: reads the content of the shown steps only."""
    cells = []
    for run_id in run_ids:
        label = (labels or {}).get(run_id) or run_label(run_id)
        item = index.item_at(name, run_id, step)
        if item is None:
            first = (index.series.get(name, {}).get(run_id) or [None])[0]
            note = f"first logged at step {first.step}" if first else f"no {name} in this run"
            cells.append(MediaCell(run_id, label, None, note=note))
            continue
        try:
            data = read_content(item, store)
        except Exception as error:  # a missing blob shows as a note; the other runs still show
            cells.append(MediaCell(run_id, label, item.step, note=f"cannot read step {item.step}: {error}"))
            continue
        cell = MediaCell(run_id, label, item.step)
        if item.is_plotly:
            cell.spec = plotly_spec(data)
        else:
            cell.uri = data_uri(data, item.media_type)
        if item.step != step:
            cell.note = f"latest before step {step}"
        cells.append(cell)
    return cells


def media_cell_html(cell: MediaCell, plotly_placeholder: bool = False) -> str:
    """One run's header and image as escaped HTML (a plotly step: a placeholder the caller fills)."""
    return str(macro("media.html", "cell", cell, plotly_placeholder))


def media_grid_html(cells: Sequence[MediaCell]) -> str:
    """The cells side by side."""
    return str(macro("media.html", "grid", [trusted(media_cell_html(c)) for c in cells]))


__all__ = ["MediaItem", "MediaIndex", "MediaCell", "media_index", "read_content", "media_cells",
           "media_cell_html", "media_grid_html", "data_uri", "plotly_spec"]
