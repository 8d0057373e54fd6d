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

from .table import esc, format_duration, format_time, format_value, status_badge

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
PLOTLY_TYPES = ("application/vnd.plotly.v1+json",)
MAX_PREVIEW_BYTES = 2_000_000
_CELL_MARKER = re.compile(r"^# %%")


def section(title: str, body: str, css_class: str = "") -> str:
    """A titled block."""
    cls = f' class="{esc(css_class)}"' if css_class else ""
    return f"<div{cls}><h4 style=\"margin:8px 0 4px\">{esc(title)}</h4>{body}</div>"


def value_text(value: Any) -> str:
    """Text of a param/tag/document value (lists and dicts as compact JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return format_value("", value)


def kv_table_html(mapping: Mapping[str, Any] | None, empty: str = "none") -> str:
    """A two-column key/value table, keys sorted, everything escaped."""
    if not mapping:
        return f"<i>{esc(empty)}</i>"
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(value_text(mapping[k]))}</td></tr>" for k in sorted(mapping, key=str))
    return f'<table class="nbtrack-kv">{rows}</table>'


def environment_html(environment: Mapping[str, Any] | None) -> str:
    """A summary of the environment document: scalar facts in a table, packages counted."""
    if not environment:
        return "<i>not recorded</i>"
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
        return "<i>none</i>"
    items = datasets.items() if isinstance(datasets, Mapping) else (
        (d.get("name", "?") if isinstance(d, Mapping) else str(d), d) for d in datasets)
    rows = []
    for name, info in items:
        info = info if isinstance(info, Mapping) else {"value": info}
        fingerprint = info.get("fingerprint", "")
        rest = {k: v for k, v in info.items() if k not in ("fingerprint", "name")}
        rows.append(f"<tr><th>{esc(name)}</th><td><code>{esc(str(fingerprint)[:16])}</code></td>"
                    f"<td>{esc(value_text(rest))}</td></tr>")
    return f'<table class="nbtrack-kv">{"".join(rows)}</table>'


def image_html(data: bytes, media_type: str, name: str) -> str:
    """An inline ``<img>`` with a data URI (SVG in an <img> cannot run scripts)."""
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<img alt="{esc(name)}" title="{esc(name)}" src="data:{esc(media_type)};base64,{encoded}" '
            f'style="max-width:420px;max-height:300px;border:1px solid #ddd">')


def artifacts_html(artifacts: Sequence[Any], preview: bool = True) -> str:
    """Artifacts listed with size and type; images previewed inline."""
    if not artifacts:
        return "<i>none</i>"
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
                cell = f'<br><span class="nbtrack-error">preview failed: {esc(exc)}</span>'
        elif media_type in PLOTLY_TYPES:
            cell = " <i>(figure shown below)</i>"
        rows.append(f"<tr><th>{esc(name)}</th><td>{esc(kind)}</td><td>{esc(media_type)}</td>"
                    f"<td>{esc(_size(size))}</td><td>{cell}</td></tr>")
    return f'<table class="nbtrack-kv">{"".join(rows)}</table>'


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
        cls = "tracked" if tracked else ""
        marker = ' data-tracked="true"' if tracked else ""
        parts.append(f'<pre class="{cls}" data-cell-index="{index}"{marker}>{esc(cell)}</pre>')
    return f'<div class="nbtrack-snapshot">{"".join(parts)}</div>'


def hidden_state_html(report: Any) -> str:
    """The hidden-state report (document ``hidden_state``) as escaped key/value lines."""
    if not report:
        return "<i>no hidden-state report</i>"
    if isinstance(report, Mapping) and "warnings" in report:
        warnings = report.get("warnings") or []
        head = ('<ul class="nbtrack-hidden-warnings">'
                + "".join(f'<li class="nbtrack-error">{esc(value_text(w))}</li>' for w in warnings) + "</ul>"
                if warnings else '<div class="nbtrack-hidden-ok">no hidden-state issues: '
                                 "the tracked cell's inputs came from cells run in order</div>")
        rest = {k: v for k, v in report.items() if k not in ("warnings", "matters")}
        return head + f"<details><summary>details</summary>{hidden_state_html(rest)}</details>"
    if isinstance(report, Mapping):
        rows = []
        for key in report:
            value = report[key]
            if isinstance(value, list):
                items = "".join(f"<li>{esc(value_text(v))}</li>" for v in value) or "<i>none</i>"
                rows.append(f"<tr><th>{esc(key)}</th><td><ul style=\"margin:0\">{items}</ul></td></tr>")
            else:
                rows.append(f"<tr><th>{esc(key)}</th><td>{esc(value_text(value))}</td></tr>")
        return f'<table class="nbtrack-kv">{"".join(rows)}</table>'
    if isinstance(report, list):
        return "<ul>" + "".join(f"<li>{esc(value_text(v))}</li>" for v in report) + "</ul>"
    return f"<pre>{esc(report)}</pre>"


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
    head = (f'<div style="font-size:14px"><b>{esc(record.name)}</b> '
            f'{status_badge(record.status)} <code class="nbtrack-runid">{esc(record.run_id)}</code></div>')
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
    user_tags = {k: v for k, v in tags.items() if not k.startswith("nbtrack.")}
    system_tags = {k: v for k, v in tags.items() if k.startswith("nbtrack.")}
    folded = f"<details><summary>system tags</summary>{kv_table_html(system_tags)}</details>" if system_tags else ""
    parts.append(section("Tags", kv_table_html(user_tags) + folded))
    notes = getattr(record, "notes", "") or ""
    parts.append(section("Notes", f'<div style="white-space:pre-wrap">{esc(notes)}</div>' if notes else "<i>none</i>"))
    environment, error = _guard(lambda: getattr(record, "environment", None))
    parts.append(section("Environment", environment_html(environment) if not error else _error(error)))
    parts.append(section("Datasets", datasets_html(getattr(record, "datasets", None))))
    parts.append(section("Artifacts", artifacts_html(getattr(record, "artifacts", []) or [])))
    failure, _ = _document(record, "error")
    if failure:
        trace = failure.get("traceback") if isinstance(failure, Mapping) else None
        parts.append(section("Error", f"<pre>{esc(trace or value_text(failure))}</pre>"))
    hidden, error = _document(record, "hidden_state")
    parts.append(section("Hidden state", hidden_state_html(hidden) if not error else _error(error)))
    text, error = _guard(lambda: notebook_snapshot_text(record))
    if error:
        parts.append(section("Notebook snapshot", _error(error)))
    elif text is not None:
        doc, _ = _document(record, "notebook")
        parts.append(section("Notebook snapshot", snapshot_html(text, tracked_cell_index(doc), tracked_cell_id(doc))))
    return '<div class="nbtrack-detail" data-run-id="' + esc(record.run_id) + '">' + "".join(parts) + "</div>"


def _error(message: str) -> str:
    return f'<span class="nbtrack-error">{esc(message)}</span>'


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
