"""``nbtrack models ...`` (the registry) and ``nbtrack datasets`` (stored dataset versions)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..cli_core import _table, _time, echo, terminal_text
from ..dataset_store import human_size


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="the model registry: list, show, alias, register, delete")
    commands = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)
    ls = commands.add_parser("ls", help="registered models with their latest version and aliases")
    ls.add_argument("--json", action="store_true", help="print as JSON")
    ls.set_defaults(func=cmd_ls)

    show = commands.add_parser("show", help="a model's description, tags, aliases and versions")
    show.add_argument("name")
    show.add_argument("--types", action="store_true",
                      help="also list what loading each version needs trusted (skops types, pickle globals)")
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.set_defaults(func=cmd_show)

    alias = commands.add_parser("alias", help="point ALIAS of model NAME at VERSION (it moves if set)")
    alias.add_argument("name")
    alias.add_argument("version")
    alias.add_argument("alias")
    alias.set_defaults(func=cmd_alias)

    unalias = commands.add_parser("unalias", help="remove ALIAS of model NAME (the version stays)")
    unalias.add_argument("name")
    unalias.add_argument("alias")
    unalias.set_defaults(func=cmd_unalias)

    add = commands.add_parser("register", help="register a run's artifact as the next version of NAME")
    add.add_argument("run", help="run id or unique prefix")
    add.add_argument("artifact", help="the artifact's name in the run (a logged directory's name works too)")
    add.add_argument("name", help="the model's name")
    add.add_argument("--alias", action="append", help="alias to point at the new version (repeatable)")
    add.add_argument("--description", help="the version's description")
    add.set_defaults(func=cmd_register)

    remove = commands.add_parser("delete", help="delete a version of NAME, or the whole model (its blobs stay "
                                                "until nbtrack gc)")
    remove.add_argument("name")
    remove.add_argument("version", nargs="?")
    remove.set_defaults(func=cmd_delete)

    datasets = subparsers.add_parser("datasets",
                                     help="dataset versions (name, fingerprint) and the runs that used them")
    datasets.add_argument("name", nargs="?", help="only this dataset name")
    datasets.add_argument("--json", action="store_true", help="print as JSON")
    datasets.set_defaults(func=cmd_datasets)


def _reading() -> None:
    """A reading subcommand never creates a store: it says where it looked."""
    from .. import config

    config.existing_store_uri()


def _cell(value: Any, width: int = 40) -> str:
    text = terminal_text("" if value is None else value, keep_newlines=False)
    return text if len(text) <= width else text[:width - 1] + "…"


def _aliases_text(aliases: dict[str, int]) -> str:
    return ", ".join(f"{a}=v{v}" for a, v in sorted(aliases.items()))


def cmd_ls(args: argparse.Namespace) -> int:
    from . import catalog
    from .resolve import current_store

    _reading()
    rows = catalog.list_models(current_store())
    if args.json:
        echo(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        echo("no registered models: nbtrack.register_model(run, 'model.skops', 'NAME') registers one")
        return 0
    echo(_table(["name", "versions", "latest", "aliases", "updated", "description"], [
        [_cell(r["name"]), str(r["versions"]), f"v{r['latest_version']}" if r["latest_version"] else "",
         _cell(_aliases_text(r["aliases"])), _time(r["updated_time"]), _cell(r["description"].splitlines()[0]
                                                                             if r["description"] else "")]
        for r in rows]))
    return 0


def _run_states(store: Any, run_ids: list[str]) -> dict[str, str]:
    """'deleted' / 'purged' for runs that are no longer plainly there."""
    from sqlalchemy import select

    from ..store import schema as s

    with store.read() as connection:
        found = dict(connection.execute(select(s.runs.c.run_id, s.runs.c.deleted).where(
            s.runs.c.run_id.in_(run_ids))).all())
    return {r: ("purged" if r not in found else "deleted" if found[r] else "") for r in run_ids}


def cmd_show(args: argparse.Namespace) -> int:
    from . import catalog
    from .names import check_model_name
    from .resolve import current_store

    _reading()
    store = current_store()
    model = catalog.get_model(store, check_model_name(args.name))
    if args.json:
        payload = model.to_dict()
        if args.types:
            for version, entry in zip(model.versions, payload["versions"]):
                entry["requires_trust"] = version.required_trust()
        echo(json.dumps(payload, indent=2, default=str))
        return 0
    count = len(model.versions)
    echo(f"model {model.name}  ({count} version{'' if count == 1 else 's'}; created {_time(model.created_time)}, "
         f"updated {_time(model.updated_time)})")
    if model.description:
        echo("description: " + model.description)
    if model.tags:
        echo("tags: " + ", ".join(f"{k}={v}" for k, v in model.tags.items()))
    echo("aliases: " + (", ".join(f"@{a} -> v{v}" for a, v in sorted(model.aliases.items())) or "none"))
    if not model.versions:
        return 0
    states = _run_states(store, sorted({v.run_id for v in model.versions}))
    rows = []
    for version in reversed(model.versions):
        run = version.run_id[:8] + (f" ({states[version.run_id]})" if states.get(version.run_id) else "")
        rows.append([f"v{version.version}", _cell(" ".join("@" + a for a in version.aliases)), run,
                     _cell(version.artifact_name), version.kind, human_size(version.size),
                     _time(version.created_time), _cell(version.description.splitlines()[0]
                                                        if version.description else "")])
    echo("")
    echo(_table(["version", "aliases", "run", "artifact", "kind", "size", "registered", "description"], rows))
    for version in reversed(model.versions):
        if version.tags:
            echo(f"v{version.version} tags: " + ", ".join(f"{k}={v}" for k, v in version.tags.items()))
        if args.types:
            needed = version.required_trust()
            echo(f"v{version.version} needs trust for: " + (", ".join(needed) if needed else "nothing"))
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    from . import set_model_alias

    set_model_alias(args.name, args.alias, args.version)
    echo(f"{args.name} @{args.alias} -> v{int(args.version)}")
    return 0


def cmd_unalias(args: argparse.Namespace) -> int:
    from . import delete_model_alias

    delete_model_alias(args.name, args.alias)
    echo(f"removed @{args.alias} from {args.name}")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from . import register_model

    version = register_model(args.run, args.artifact, args.name, alias=args.alias, description=args.description)
    echo(f"registered {version.label} ({version.uri}) from run {version.run_id[:8]}, {version.artifact_name}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from . import delete_model

    removed = delete_model(args.name, args.version)
    if args.version is None:
        echo(f"deleted model {args.name} ({len(removed)} version{'' if len(removed) == 1 else 's'})")
    else:
        echo(f"deleted {args.name} v{removed[0]}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from ..dataset_store import list_datasets
    from .resolve import current_store

    _reading()
    rows = list_datasets(current_store(), args.name)
    if args.json:
        echo(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        echo("no datasets" + (f" named {args.name!r}" if args.name else "") + ": nbtrack.log_dataset(df, 'train') "
             "records one")
        return 0
    table = []
    for r in rows:
        shape = f"{r['rows']}×{r['columns']}" if r["columns"] is not None else (str(r["rows"] or ""))
        stored = r["format"] if r["stored"] else "not stored"
        table.append([_cell(r["name"]), r["fingerprint"][:12], r["kind"] or "", shape, stored,
                      human_size(r["size"]) if r["size"] is not None else "", _time(r["first_seen"]),
                      (r["first_run"] or "")[:8], str(len(r["runs"]))])
    echo(_table(["name", "fingerprint", "kind", "shape", "stored", "size", "first seen", "first run", "runs"], table))
    return 0


def lineage_lines(record: Any) -> list[str]:
    """``nbtrack show``'s lineage block: versions registered from the run, what it used, where the
    datasets' copies stand (empty when there is nothing to say)."""
    lineage = record.lineage
    lines = []
    for version in lineage.models_produced:
        lines.append(f"  registered as {version.label} ({version.artifact_name})")
    for use in lineage.models_used:
        lines.append(f"  used model {use}")
    for dataset in lineage.datasets:
        if dataset.loaded_from or not dataset.stored or (dataset.first_run and dataset.first_run != record.run_id):
            lines.append(f"  dataset {dataset}")
    if lineage.children:
        lines.append("  children: " + ", ".join(c[:8] for c in lineage.children))
    if lineage.used_by:
        lines.append("  its models were loaded by: " + ", ".join(r[:8] for r in lineage.used_by))
    return ["", "lineage:", *lines] if lines else []
