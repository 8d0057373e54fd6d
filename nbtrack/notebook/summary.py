"""The one line shown after a tracked cell (text and HTML; run strings are escaped)."""

from __future__ import annotations

import html
from typing import Any

from ..formatting import format_duration


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_bundle(run_id: str, experiment: str, status: str, duration: float, params: int, metrics: int,
                   artifacts: int, warnings: list[str]) -> dict[str, str]:
    """A ``{"text/plain", "text/html"}`` bundle: one line about the run, then one line per warning."""
    recorded = ", ".join([_plural(params, "param"), _plural(metrics, "metric"), _plural(artifacts, "artifact")])
    state = "" if status == "FINISHED" else f" {status}"
    hint = "%nbtrack dashboard"
    text = (f"nbtrack: run {run_id[:8]}{state} · {experiment} · {format_duration(duration)} · {recorded}"
            f" · open with {hint}")
    lines = [text] + [f"nbtrack: ⚠ {w}" for w in warnings]
    e = html.escape
    color = "#2e7d32" if status == "FINISHED" else "#c62828"
    markup = (f'<div class="nbtrack-summary" style="font-size:12px;color:#555">nbtrack: run '
              f'<code title="{e(run_id)}">{e(run_id[:8])}</code>'
              f'{f" <b style=color:{color}>{e(status)}</b>" if state else ""} · {e(experiment)} · '
              f'{e(format_duration(duration))} · {e(recorded)} · open with <code>{e(hint)}</code></div>')
    markup += "".join(f'<div class="nbtrack-warning" style="font-size:12px;color:#b26a00">nbtrack: ⚠ {e(w)}</div>'
                      for w in warnings)
    return {"text/plain": "\n".join(lines), "text/html": markup}


def show(bundle: dict[str, Any]) -> None:
    """Display a bundle (outside the output capture, so it is never saved as an artifact)."""
    from IPython.display import display

    display(bundle, raw=True)
