"""``nbtrack import mlflow|trackio|wandb SOURCE`` and ``nbtrack export mlflow TARGET``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SYSTEMS = ("mlflow", "trackio", "wandb")


def register(subparsers: argparse._SubParsersAction) -> None:
    imports = subparsers.add_parser(
        "import", help="bring runs in from MLflow, Trackio or W&B (offline runs); importing again adds nothing",
        description="Import runs into the nbtrack store. SOURCE is, for mlflow, a tracking database URI "
                    "(sqlite:///mlflow.db, postgresql://...) or an mlruns directory; for trackio, a project "
                    "name (in $TRACKIO_DIR) or its .db file; for wandb, an offline run directory or a wandb/ "
                    "directory holding them.")
    imports.add_argument("system", choices=SYSTEMS)
    imports.add_argument("source")
    imports.add_argument("-e", "--experiment", action="append",
                         help="only this source experiment (MLflow; repeatable)")
    imports.add_argument("--include-deleted", action="store_true", help="also runs MLflow marks deleted")
    imports.add_argument("--no-artifacts", action="store_true", help="do not copy artifacts")
    imports.add_argument("--artifacts-root", metavar="DIR",
                         help="where an MLflow server keeps mlflow-artifacts:/ (its --artifacts-destination)")
    imports.add_argument("--trackio-dir", metavar="DIR", help="Trackio's data directory (default: $TRACKIO_DIR "
                                                              "or ~/.cache/huggingface/trackio)")
    imports.add_argument("--wandb-python", metavar="PYTHON",
                         help="a Python with wandb installed, to read W&B run files (default: this one)")
    imports.set_defaults(func=cmd_import)


def _source(args: argparse.Namespace) -> Any:
    if args.system == "mlflow":
        from .mlflow_files import MlflowFilesSource, is_mlruns
        from .mlflow_sql import MlflowSqlSource

        options = dict(experiments=args.experiment, include_deleted=args.include_deleted,
                       artifacts_root=args.artifacts_root, copy_artifacts=not args.no_artifacts)
        source = args.source
        if source.startswith("file:"):
            source = source[len("file://"):] if source.startswith("file://") else source[len("file:"):]
        if "://" in source:
            return MlflowSqlSource(source, **options)
        if os.path.isdir(source):
            if is_mlruns(source):
                return MlflowFilesSource(source, **options)
            raise ValueError(f"{source} is not an mlruns directory (no <experiment id>/meta.yaml in it)")
        if os.path.isfile(source):
            return MlflowSqlSource(f"sqlite:///{os.path.abspath(source)}", **options)
        raise FileNotFoundError(f"no MLflow store at {source}: give sqlite:///path/mlflow.db, postgresql://..., "
                                "or an mlruns directory")
    if args.system == "trackio":
        from .trackio import TrackioSource

        return TrackioSource(args.source, args.trackio_dir)
    from .wandb_runs import WandbSource

    return WandbSource(args.source, args.wandb_python)


def cmd_import(args: argparse.Namespace) -> int:
    import nbtrack

    from ..cli_core import echo
    from .writer import write_runs

    source = _source(args)
    try:
        total = source.count()
        report = write_runs(nbtrack.get_store(), source.runs(), args.system, total)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    echo(report.summary(args.system))
    deleted = getattr(source, "deleted", 0)
    if deleted:
        echo(f"{deleted} deleted runs left out (--include-deleted brings them)")
    for source_id, reason in report.failed:
        echo(f"  not imported: {source_id}: {reason}", file=sys.stderr)
    for source_id, warning in report.warnings:
        echo(f"  {source_id}: {warning}", file=sys.stderr)
    return 1 if report.failed and not report.imported and not report.already else 0


def add_export_arguments(export: argparse.ArgumentParser) -> None:
    """``nbtrack export mlflow TARGET``: the extra arguments of the export command."""
    export.add_argument("system", nargs="?", choices=("mlflow",),
                        help="export into another tracker: `nbtrack export mlflow TARGET`")
    export.add_argument("target", nargs="?", help="MLflow tracking URI (sqlite:///mlflow.db, postgresql://...) "
                                                  "or mlruns directory")
    export.add_argument("--mlflow-python", metavar="PYTHON",
                        help="a Python with mlflow installed (default: this one)")
    export.add_argument("--artifact-location", metavar="DIR",
                        help="artifact root of experiments the export creates (default: beside the target)")


def cmd_export_mlflow(args: argparse.Namespace) -> int:
    from ..cli_core import echo
    from .mlflow_export import export_runs

    if not args.target:
        raise ValueError("nbtrack export mlflow needs a TARGET: an MLflow tracking URI or an mlruns directory")
    report = export_runs(args.target, args.experiment, args.filter, python=args.mlflow_python,
                         artifact_location=args.artifact_location)
    echo(report.summary())
    for run_id, reason in report.failed:
        echo(f"  not exported: {run_id}: {reason}", file=sys.stderr)
    return 1 if report.failed and not report.exported and not report.already else 0
