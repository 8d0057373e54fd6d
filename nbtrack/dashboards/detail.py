"""HTML for one run's detail view: params, metrics, tags, notes, environment, datasets,
artifacts (inline image previews), the hidden-state report and the notebook snapshot.

Pure functions of plain data; :func:`detail_html` reads a ``RunRecord`` and guards every
read so a missing or broken part shows as a note instead of failing the whole view.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable, Mapping, Sequence

from ..formatting import format_duration, format_time
from ..systemtags import is_system_tag
from .table import format_value, status_badge
from .templating import macro, trusted

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
PLOTLY_TYPES = ("application/vnd.plotly.v1+json",)
MAX_PREVIEW_BYTES = 2_000_000
_CELL_MARKER = re.compile(r"^# %%")


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
    """Split a percent-format script (``# %%`` markers, as jupytext writes) into cells.

    Text before the first marker (the jupytext header) is not a cell. A script without
    markers is one cell.
    """
    cells: list[list[str]] = []
    header: list[str] = []
    for line in source.splitlines():
        if _CELL_MARKER.match(line):
            cells.append([line])
        elif cells:
            cells[-1].append(line)
        else:
            header.append(line)
    if not cells:
        return [source]
    return ["\n".join(c).rstrip("\n") for c in cells]


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


def snapshot_html(source: str, tracked_index: int | None = None, tracked_id: str | None = None) -> str:
    """The notebook snapshot, one ``<pre>`` per cell, the tracked cell highlighted.

    A cell is the tracked one when its position is ``tracked_index`` or its marker line
    carries ``tracked_id`` (e.g. ``# %% id="..."``).
    """
    cells = split_cells(source)
    parts = []
    for index, cell in enumerate(cells):
        first = cell.split("\n", 1)[0]
        tracked = index == tracked_index or (tracked_id is not None and tracked_id in first)
        parts.append({"index": index, "tracked": tracked, "text": cell})
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


def notebook_snapshot_text(record: Any) -> str | None:
    """The notebook snapshot's text (artifact named by the ``notebook`` document, else
    ``notebook.py``), or None when the run has none."""
    names = [getattr(a, "name", "") for a in getattr(record, "artifacts", []) or []]
    try:
        document = record.document("notebook") or {}
    except Exception:
        document = {}
    name = document.get("artifact") if isinstance(document, Mapping) else None
    name = name if name in names else "notebook.py"
    if name not in names:
        return None
    return record.artifact(name).read_text()


def detail_html(record: Any) -> str:
    """Everything about one run as one escaped HTML fragment."""
    parts = [summary_html(record)]
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
    failure, _ = _document(record, "error")
    if failure:
        trace = failure.get("traceback") if isinstance(failure, Mapping) else None
        parts.append(section("Error", _html("pre", trace or value_text(failure))))
    hidden, error = _document(record, "hidden_state")
    parts.append(section("Hidden state", hidden_state_html(hidden) if not error else _error(error)))
    text, error = _guard(lambda: notebook_snapshot_text(record))
    if error:
        parts.append(section("Notebook snapshot", _error(error)))
    elif text is not None:
        doc, _ = _document(record, "notebook")
        parts.append(section("Notebook snapshot", snapshot_html(text, tracked_cell_index(doc), tracked_cell_id(doc))))
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
