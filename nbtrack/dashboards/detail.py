"""HTML for one run's detail view: params, metrics, tags, notes, environment, datasets,
artifacts (inline image previews), the hidden-state report and the notebook snapshot.

Pure functions of plain data; :func:`detail_html` reads a ``RunRecord`` and guards every
read so a missing or broken part shows as a note instead of failing the whole view.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Mapping, Sequence

from ..formatting import format_duration, format_time
from ..systemtags import is_system_tag
from .table import format_value, status_badge
from .templating import macro, trusted

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
PLOTLY_TYPES = ("application/vnd.plotly.v1+json",)
MAX_PREVIEW_BYTES = 2_000_000


def section(title: str, body: str, css_class: str = "") -> str:
    """A titled block."""
    return _html("section", title, trusted(body), css_class)


def value_text(value: Any) -> str:
    """Text of a param/tag/document value (lists and dicts as compact JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return format_value("", value)


def kv_table_html(mapping: Mapping[str, Any] | None, empty: str = "none") -> str:
    """A two-column key/value table, keys sorted, everything escaped."""
    if not mapping:
        return _note(empty)
    return _html("kv_table", [(k, value_text(mapping[k])) for k in sorted(mapping, key=str)])


def environment_html(environment: Mapping[str, Any] | None) -> str:
    """A summary of the environment document: scalar facts in a table, packages counted."""
    if not environment:
        return _note("not recorded")
    facts: dict[str, Any] = {}
    for key, value in environment.items():
        if isinstance(value, dict) and key.lower() in ("packages", "pip", "installed"):
            facts[key] = f"{len(value)} packages"
        elif isinstance(value, list) and len(value) > 8:
            facts[key] = f"{len(value)} items"
        elif isinstance(value, dict):
            for sub, subvalue in value.items():
                if not isinstance(subvalue, (dict, list)) or len(json.dumps(subvalue, default=str)) < 120:
                    facts[f"{key}.{sub}"] = subvalue
        else:
            facts[key] = value
    return kv_table_html(facts)


def datasets_html(datasets: Any) -> str:
    """Datasets as a table of name, fingerprint and recorded info."""
    if not datasets:
        return _note("none")
    items = datasets.items() if isinstance(datasets, Mapping) else (
        (d.get("name", "?") if isinstance(d, Mapping) else str(d), d) for d in datasets)
    rows = []
    for name, info in items:
        info = info if isinstance(info, Mapping) else {"value": info}
        fingerprint = info.get("fingerprint", "")
        rest = {k: v for k, v in info.items() if k not in ("fingerprint", "name")}
        rows.append((name, str(fingerprint)[:16], value_text(rest)))
    return _html("datasets", rows)


def image_html(data: bytes, media_type: str, name: str) -> str:
    """An inline ``<img>`` with a data URI (SVG in an <img> cannot run scripts)."""
    encoded = base64.b64encode(data).decode("ascii")
    return _html("image", name, media_type, encoded)


def artifacts_html(artifacts: Sequence[Any], preview: bool = True) -> str:
    """Artifacts listed with size and type; images previewed inline."""
    if not artifacts:
        return _note("none")
    rows = []
    for artifact in artifacts:
        name = getattr(artifact, "name", str(artifact))
        media_type = getattr(artifact, "media_type", "") or ""
        size = getattr(artifact, "size", None)
        kind = getattr(artifact, "kind", "")
        cell = ""
        if preview and media_type in IMAGE_TYPES and (size or 0) <= MAX_PREVIEW_BYTES:
            try:
                cell = "<br>" + image_html(artifact.read_bytes(), media_type, name)
            except Exception as exc:  # a missing blob must not break the view
                cell = "<br>" + _error(f"preview failed: {exc}")
        elif media_type in PLOTLY_TYPES:
            cell = " " + _note("(figure shown below)")
        rows.append({"name": name, "kind": kind, "media_type": media_type, "size": _size(size),
                     "cell": trusted(cell)})
    return _html("artifacts", rows)


def _size(size: Any) -> str:
    if not isinstance(size, (int, float)):
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def split_cells(source: str) -> list[str]:
    """The cell sources of a jupytext py:percent snapshot text (as jupytext itself reads it:
    a ``# %%track`` comment inside a cell is not a new cell)."""
    from ..notebook.stored_snapshot import cells_from_text

    return [cell.source for cell in cells_from_text(source)[0]]


def tracked_cell_index(notebook_doc: Mapping[str, Any] | None) -> int | None:
    """The tracked cell's index from the ``notebook`` document, whatever its key spelling."""
    if not isinstance(notebook_doc, Mapping):
        return None
    for key in ("cell_index", "tracked_cell_index", "index"):
        value = notebook_doc.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    cell = notebook_doc.get("cell")
    if isinstance(cell, Mapping):
        return tracked_cell_index(cell)
    return None


def tracked_cell_id(notebook_doc: Mapping[str, Any] | None) -> str | None:
    """The tracked cell's id from the ``notebook`` document, if it has one."""
    if not isinstance(notebook_doc, Mapping):
        return None
    for key in ("cell_id", "tracked_cell_id", "id"):
        if isinstance(notebook_doc.get(key), str):
            return notebook_doc[key]
    cell = notebook_doc.get("cell")
    return tracked_cell_id(cell) if isinstance(cell, Mapping) else None


def snapshot_html(source: Any, tracked_index: int | None = None, tracked_id: str | None = None) -> str:
    """The notebook snapshot, one ``<pre>`` per cell, the tracked cell highlighted.

    ``source`` is a stored snapshot (``nbtrack.notebook.stored_snapshot.read_snapshot``), its
    list of cells, or a jupytext py:percent text. A cell is the tracked one when its position
    is ``tracked_index`` or its id is ``tracked_id``.
    """
    from ..notebook.stored_snapshot import StoredSnapshot, cells_from_text

    if isinstance(source, StoredSnapshot):
        cells = source.cells
    elif isinstance(source, str):
        cells = cells_from_text(source)[0]
    else:
        cells = list(source)
    parts = []
    for index, cell in enumerate(cells):
        tracked = index == tracked_index or (tracked_id is not None and cell.id == tracked_id)
        kind = "" if cell.cell_type == "code" else f" [{cell.cell_type}]"
        parts.append({"index": index, "tracked": tracked, "text": f"# %%{kind}\n{cell.source}"})
    return _html("snapshot", parts)


def hidden_state_html(report: Any) -> str:
    """The hidden-state report (document ``hidden_state``) as escaped key/value lines."""
    if not report:
        return _note("no hidden-state report")
    if isinstance(report, Mapping) and "warnings" in report:
        warnings = [value_text(w) for w in report.get("warnings") or []]
        rest = {k: v for k, v in report.items() if k not in ("warnings", "matters")}
        return _html("hidden_warnings", warnings, trusted(hidden_state_html(rest)))
    if isinstance(report, Mapping):
        rows = [(key, None, [value_text(v) for v in report[key]]) if isinstance(report[key], list)
                else (key, value_text(report[key]), None) for key in report]
        return _html("hidden_table", rows)
    if isinstance(report, list):
        return _html("items", [value_text(v) for v in report])
    return _html("pre", report)


def _guard(read: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return read(), None
    except Exception as exc:  # each part of the view fails alone
        return None, f"{type(exc).__name__}: {exc}"


def _document(record: Any, key: str) -> tuple[Any, str | None]:
    return _guard(lambda: record.document(key))


def summary_html(record: Any) -> str:
    """The header line: name, id, experiment, status, times."""
    facts = {
        "run id": record.run_id,
        "experiment": getattr(record, "experiment", ""),
        "started": format_time(getattr(record, "start_time", None)),
        "duration": format_duration(getattr(record, "duration", None)),
        "parent": getattr(record, "parent_run_id", None) or "",
    }
    head = _html("summary_head", record.name, trusted(status_badge(record.status)), record.run_id)
    return head + kv_table_html({k: v for k, v in facts.items() if v not in ("", None)})


def notebook_snapshot(record: Any) -> Any:
    """The run's stored snapshot (``read_snapshot``), or None when the run has none."""
    from ..notebook.errors import SnapshotNotFoundError
    from ..notebook.stored_snapshot import read_snapshot

    try:
        return read_snapshot(record)
    except SnapshotNotFoundError:
        return None


def notebook_snapshot_text(record: Any) -> str | None:
    """The notebook snapshot as text, one ``# %%`` header per cell (for the compare view's
    diff), or None when the run has none."""
    snapshot = notebook_snapshot(record)
    if snapshot is None:
        return None
    return "".join(f"# %%{'' if c.cell_type == 'code' else ' [' + c.cell_type + ']'}\n{c.source}\n\n"
                   for c in snapshot.cells)


def detail_html(record: Any) -> str:
    """Everything about one run as one escaped HTML fragment."""
    parts = [summary_html(record)]
    # -- re-run verdict (nbtrack/runner/verdict.py): verified / diverged, or the run this one re-ran
    from ..runner.verdict import verdict_html

    verdict, error = _guard(lambda: verdict_html(record))
    if verdict or error:
        parts.append(section("Re-run", verdict if not error else _error(error), "nbtrack-verdict"))
    parts.append(section("Params", kv_table_html(getattr(record, "params", {}))))
    parts.append(section("Metrics (latest)", kv_table_html(getattr(record, "metrics", {}))))
    tags = getattr(record, "tags", {}) or {}
    user_tags = {k: v for k, v in tags.items() if not is_system_tag(k)}
    system_tags = {k: v for k, v in tags.items() if is_system_tag(k)}
    folded = _html("system_tags", trusted(kv_table_html(system_tags))) if system_tags else ""
    parts.append(section("Tags", kv_table_html(user_tags) + folded))
    notes = getattr(record, "notes", "") or ""
    parts.append(section("Notes", _html("notes", notes) if notes else _note("none")))
    environment, error = _guard(lambda: getattr(record, "environment", None))
    parts.append(section("Environment", environment_html(environment) if not error else _error(error)))
    parts.append(section("Datasets", datasets_html(getattr(record, "datasets", None))))
    parts.append(section("Artifacts", artifacts_html(getattr(record, "artifacts", []) or [])))
    # -- lineage (nbtrack.registry): registered versions, datasets and models used, parents, children
    from ..registry.html import lineage_html

    lineage, error = _guard(lambda: lineage_html(record))
    parts.append(section("Lineage", lineage if not error else _error(error), "nbtrack-lineage"))
    failure, _ = _document(record, "error")
    if failure:
        trace = failure.get("traceback") if isinstance(failure, Mapping) else None
        parts.append(section("Error", _html("pre", trace or value_text(failure))))
    hidden, error = _document(record, "hidden_state")
    parts.append(section("Hidden state", hidden_state_html(hidden) if not error else _error(error)))
    snapshot, error = _guard(lambda: notebook_snapshot(record))
    if error:
        parts.append(section("Notebook snapshot", _error(error)))
    elif snapshot is not None:
        note = snapshot.disk_note()
        parts.append(section("Notebook snapshot", (_note(note) if note else "") + snapshot_html(
            snapshot, snapshot.tracked_index, snapshot.tracked_id)))
    return _html("detail", record.run_id, [trusted(part) for part in parts])


def _error(message: str) -> str:
    return _html("error", message)


def _note(text: str) -> str:
    return _html("note", text)


def _html(name: str, *args: Any) -> str:
    """The macro ``name`` of templates/detail.html, as a plain string."""
    return str(macro("detail.html", name, *args))


def plotly_artifacts(record: Any) -> list[tuple[str, dict]]:
    """(name, figure JSON) of each plotly-figure artifact, for display as live figures."""
    out = []
    for artifact in getattr(record, "artifacts", []) or []:
        if getattr(artifact, "media_type", "") in PLOTLY_TYPES or getattr(artifact, "kind", "") == "plotly":
            try:
                spec = json.loads(artifact.read_text())
            except Exception:
                continue
            if isinstance(spec, dict):
                out.append((artifact.name, spec))
    return out
