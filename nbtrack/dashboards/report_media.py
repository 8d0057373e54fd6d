"""The report's media view: per media series, the runs side by side with one step slider,
as data in the page (images as data URIs, each distinct image once) and a small script.

A report must stay one file that can be mailed, so each series keeps at most
``MAX_STEPS`` steps (evenly spaced, the first and the last always in) of at most
``MAX_RUNS`` runs.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from .media import data_uri, media_index, plotly_spec, read_content

MAX_SERIES = 4
MAX_RUNS = 6
MAX_STEPS = 40

SCRIPT = """
document.querySelectorAll('.nbtrack-report-media').forEach(function (section) {
  var data = JSON.parse(section.querySelector('script.nbtrack-media-data').textContent);
  var slider = section.querySelector('input.nbtrack-media-slider');
  var label = section.querySelector('.nbtrack-media-slider-step');
  function show(position) {
    var step = data.steps[position];
    label.textContent = step;
    section.querySelectorAll('.nbtrack-media-cell').forEach(function (cell, index) {
      var frames = data.runs[index].frames, shown = null;
      for (var i = 0; i < frames.length && frames[i][0] <= step; i++) { shown = frames[i]; }
      var head = cell.querySelector('.nbtrack-media-step');
      var image = cell.querySelector('img.nbtrack-media-image');
      var figure = cell.querySelector('.nbtrack-media-plotly');
      head.textContent = shown ? shown[0] : 'none yet';
      cell.dataset.step = shown ? shown[0] : '';
      var content = shown ? data.content[shown[1]] : null;
      if (image) { image.style.visibility = content ? 'visible' : 'hidden'; if (content) { image.src = content; } }
      if (figure && content && window.Plotly) { Plotly.react(figure, content.data || [], content.layout || {}); }
    });
  }
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10)); });
  show(parseInt(slider.value, 10));
});
"""


def _spread(steps: Sequence[int], limit: int) -> list[int]:
    """At most ``limit`` of ``steps``, evenly spaced, the first and the last included."""
    if len(steps) <= limit:
        return list(steps)
    last = len(steps) - 1
    positions = sorted({round(i * last / (limit - 1)) for i in range(limit)})
    return [steps[p] for p in positions]


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>``, no ``<!--``)."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def media_sections(run_ids: Sequence[str], labels: Mapping[str, str], store: Any = None) -> list[dict]:
    """One dict per media series: ``name``, ``steps`` (the slider's stops), ``runs`` (label,
    run id) and ``data`` (the JSON the script reads), for the report's template."""
    index = media_index(run_ids, store)
    sections = []
    for name in index.names()[:MAX_SERIES]:
        runs = index.runs(name)[:MAX_RUNS]
        steps = _spread(index.steps(name), MAX_STEPS)
        content: dict[str, Any] = {}
        data_runs = []
        for run_id in runs:
            frames = []
            for step in steps:
                item = index.item_at(name, run_id, step)
                if item is None or (frames and frames[-1][0] == item.step):
                    continue
                if item.sha256 not in content:
                    raw = read_content(item, store)
                    content[item.sha256] = plotly_spec(raw) if item.is_plotly else data_uri(raw, item.media_type)
                frames.append([item.step, item.sha256])
            data_runs.append({"run_id": run_id, "frames": frames})
        kinds = {run_id: any(i.is_plotly for i in index.series[name][run_id]) for run_id in runs}
        sections.append({
            "name": name, "steps": steps, "last": len(steps) - 1,
            "runs": [{"run_id": r, "label": labels.get(r, r[:8]), "plotly": kinds[r]} for r in runs],
            "data": script_json({"steps": steps, "runs": data_runs, "content": content}),
            "total_steps": len(index.steps(name)), "total_runs": len(index.runs(name)),
        })
    return sections


__all__ = ["media_sections", "script_json", "SCRIPT", "MAX_RUNS", "MAX_STEPS", "MAX_SERIES"]
