"""How a run's re-run verdict is shown: lines for ``nbtrack show``, a section for the dashboard's
run detail (escaped HTML: every run string goes through ``html.escape``)."""

from __future__ import annotations

import html
from typing import Any

from .rerun import RERUN_DOCUMENT, RERUN_OF_TAG, RERUN_VERDICT_TAG, VERDICT_DETAIL_TAG, VERDICT_RUN_TAG, VERDICT_TAG

_COLORS = {"verified": "#2e7d32", "diverged": "#c62828", "changed": "#6d4c41"}


def verdict_lines(record: Any) -> list[str]:
    """What the run's tags and ``rerun`` document say about re-runs: of this run (it is an
    original) and of the run it re-ran (it is a re-run). Empty when neither."""
    tags = record.tags or {}
    lines = []
    if tags.get(VERDICT_TAG):
        by, verdict = tags.get(VERDICT_RUN_TAG) or "", tags[VERDICT_TAG]
        detail = tags.get(VERDICT_DETAIL_TAG) or ""
        detail = detail[len(verdict) + 2:] if detail.startswith(verdict + ": ") else detail
        lines.append(verdict + (f" by re-run {by[:8]}" if by else "") + (f": {detail}" if detail else ""))
    if tags.get(RERUN_OF_TAG):
        document = record.document(RERUN_DOCUMENT) or {}
        verdict = tags.get(RERUN_VERDICT_TAG) or document.get("verdict") or "?"
        lines.append(f"re-run of {tags[RERUN_OF_TAG][:8]}: {verdict}")
        for cause in (document.get("causes") or [])[:3] if verdict != "verified" else []:
            lines.append(f"  likely cause: {cause}")
    return lines


def verdict_html(record: Any) -> str:
    """The verification section's body for the run detail, or "" when the run has no verdict."""
    tags = record.tags or {}
    verdict = tags.get(VERDICT_TAG) or tags.get(RERUN_VERDICT_TAG)
    if not verdict:
        return ""
    color = _COLORS.get(verdict, "#555")
    rows = "".join(f"<div>{html.escape(line)}</div>" for line in verdict_lines(record))
    return (f'<div class="nbtrack-verdict"><b style="color:{color}">{html.escape(verdict)}</b>'
            f"{rows}</div>")
