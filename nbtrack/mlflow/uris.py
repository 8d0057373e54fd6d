"""``mlflow.set_tracking_uri`` for nbtrack: which store a URI or path names.

An nbtrack store is a SQLite or PostgreSQL URI, a SQLite file, or a directory (its
``nbtrack.db``). What nbtrack cannot write to is refused, saying what to do instead: an
MLflow tracking server (``http://``, ``databricks``), an MLflow SQLite database, an
``mlruns`` directory (``nbtrack import mlflow`` brings their runs in).
"""

from __future__ import annotations

import os
import sqlite3

from ..config import STORE_FILE
from .exceptions import MlflowException

SERVER_SCHEMES = ("http://", "https://", "databricks", "uc:", "mlflow-artifacts:")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def _refuse(uri: str, what: str) -> MlflowException:
    return MlflowException(
        f"set_tracking_uri({uri!r}): {what}. nbtrack.mlflow records into an nbtrack store (a SQLite or "
        "PostgreSQL URI, a .db file or a directory); bring existing MLflow runs in with "
        f"`nbtrack import mlflow {uri}`, or use the real mlflow package to talk to an MLflow server")


def _is_mlflow_sqlite(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("select name from sqlite_master where type='table'")}
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return "alembic_version" in tables and "nbtrack_meta" not in tables


def _is_mlruns(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "0", "meta.yaml")) or os.path.isdir(os.path.join(path, ".trash"))


def store_uri_for(uri: str | os.PathLike) -> str:
    """The nbtrack store URI that ``mlflow.set_tracking_uri(uri)`` means."""
    text = os.fspath(uri).strip()
    if not text:
        raise _refuse(text, "the URI is empty")
    lowered = text.lower()
    if lowered.startswith(SERVER_SCHEMES):
        raise _refuse(text, "that is an MLflow tracking server, which nbtrack does not write to")
    if lowered.startswith("file:"):
        text = text[len("file://"):] if lowered.startswith("file://") else text[len("file:"):]
        lowered = text.lower()
    if lowered.startswith("sqlite:///"):
        path = text[len("sqlite:///"):].split("?", 1)[0]
        if _is_mlflow_sqlite(path):
            raise _refuse(text, "that database is an MLflow store")
        return text
    if "://" in text:
        if not lowered.startswith(("postgresql", "postgres", "sqlite")):
            raise _refuse(text, "nbtrack stores are SQLite or PostgreSQL")
        return text
    path = os.path.abspath(os.path.expanduser(text))
    if os.path.isdir(path) or (not os.path.isfile(path) and not path.lower().endswith(SQLITE_SUFFIXES)):
        if _is_mlruns(path):
            raise _refuse(text, "that directory is an MLflow file store (mlruns)")
        path = os.path.join(path, STORE_FILE)
    if _is_mlflow_sqlite(path):
        raise _refuse(text, "that database is an MLflow store")
    return f"sqlite:///{path}"
