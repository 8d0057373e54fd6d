"""The run detail's lineage block and the table's ``models`` field (escaped: Jinja2 autoescape)."""

from __future__ import annotations

from typing import Any, Iterable


def lineage_facts(record: Any) -> dict[str, str]:
    """What the detail view lists: registered versions, models and datasets used, parents, children."""
    lineage = record.lineage
    facts: dict[str, str] = {}
    if lineage.models_produced:
        facts["registered as"] = ", ".join(f"{v.label} ({v.artifact_name})" for v in lineage.models_produced)
    if lineage.models_used:
        facts["models used"] = ", ".join(str(m) for m in lineage.models_used)
    for dataset in lineage.datasets:
        facts[f"dataset {dataset.name}"] = dataset.summary
    if lineage.parents:
        facts["parents"] = " <- ".join(p[:8] for p in lineage.parents)
    if lineage.children:
        facts["children"] = ", ".join(c[:8] for c in lineage.children)
    if lineage.used_by:
        facts["its models loaded by"] = ", ".join(r[:8] for r in lineage.used_by)
    return facts


def lineage_html(record: Any) -> str:
    """The lineage block of the run detail view."""
    from ..dashboards.detail import kv_table_html

    return kv_table_html(lineage_facts(record), empty="no registered models, no datasets, no parent or child runs")


def with_registered_models(rows: list[dict], store: Any = None) -> list[dict]:
    """``rows`` (the table's page, one dict per run) with ``row["models"]``: the labels of the versions
    registered from each run (``["churn v3 @champion"]``, empty when none), in one query."""
    from .catalog import versions_by_run
    from .resolve import current_store

    ids: Iterable[str] = [str(row.get("run_id")) for row in rows if row.get("run_id")]
    found = versions_by_run(store or current_store(), ids)
    for row in rows:
        row["models"] = [v.label for v in found.get(str(row.get("run_id")), [])]
    return rows
