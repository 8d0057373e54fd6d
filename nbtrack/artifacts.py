"""log_artifact: turn what the user hands over into content-addressed blobs and artifact rows."""

from __future__ import annotations

import io
import json
import mimetypes
import os
import pickle
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store.blobs import safe_artifact_name

if TYPE_CHECKING:  # pragma: no cover
    from .run import Run


def _row(run: "Run", name: str, digest: str, size: int, kind: str, media_type: str) -> dict:
    return {"run_id": run.run_id, "name": name, "sha256": digest, "size": size, "kind": kind,
            "media_type": media_type, "created_time": time.time()}


def _media_type(name: str, default: str = "application/octet-stream") -> str:
    guessed, _ = mimetypes.guess_type(name)
    guessed = guessed or default
    return guessed if len(guessed) <= 100 else default  # the column holds 100 characters


def _is_matplotlib_figure(obj: Any) -> bool:
    return type(obj).__module__.startswith("matplotlib") and hasattr(obj, "savefig")


def _is_plotly_figure(obj: Any) -> bool:
    return type(obj).__module__.startswith("plotly") and hasattr(obj, "to_json")


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and type(obj).__module__.startswith("pandas")


def prepare_artifacts(run: "Run", obj: Any, name: str | None) -> tuple[list[dict], str]:
    """Store ``obj``'s content as blobs; return the artifact rows and the name shown to the user."""
    from . import config

    blobs = config.store_for(run.store_uri).blobs
    if name is not None:
        name = safe_artifact_name(name)

    if isinstance(obj, Path) or (isinstance(obj, str) and name is None and os.path.exists(obj)) or (
            isinstance(obj, str) and name is not None and os.path.exists(obj) and "\n" not in obj):
        return _prepare_path(run, blobs, Path(obj), name)
    if isinstance(obj, str):
        if name is None:
            raise ValueError(
                f"{obj[:60]!r} is not an existing file or directory; to log it as text, "
                "pass a name: log_artifact(text, name='notes.txt')")
        digest, size = blobs.put_bytes(obj.encode("utf-8"))
        return [_row(run, name, digest, size, "text", _media_type(name, "text/plain"))], name
    if isinstance(obj, (bytes, bytearray, memoryview)):
        if name is None:
            raise ValueError("bytes need a name: log_artifact(data, name='weights.bin')")
        digest, size = blobs.put_bytes(bytes(obj))
        return [_row(run, name, digest, size, "file", _media_type(name))], name
    if _is_matplotlib_figure(obj):
        name = name or "figure.png"
        buffer = io.BytesIO()
        fmt = name.rsplit(".", 1)[-1].lower() if "." in name else "png"
        obj.savefig(buffer, format=fmt if fmt in ("png", "svg", "pdf", "jpg", "jpeg") else "png",
                    bbox_inches="tight")
        digest, size = blobs.put_bytes(buffer.getvalue())
        return [_row(run, name, digest, size, "figure", _media_type(name, "image/png"))], name
    if _is_plotly_figure(obj):
        name = name or "figure.plotly.json"
        digest, size = blobs.put_bytes(obj.to_json().encode("utf-8"))
        return [_row(run, name, digest, size, "plotly", "application/vnd.plotly.v1+json")], name
    if _is_dataframe(obj):
        name = name or "data.csv"
        if name.endswith(".parquet"):
            buffer = io.BytesIO()
            obj.to_parquet(buffer)
            data = buffer.getvalue()
        else:
            data = obj.to_csv(index=False).encode("utf-8")
        digest, size = blobs.put_bytes(data)
        return [_row(run, name, digest, size, "dataframe", _media_type(name, "text/csv"))], name
    if isinstance(obj, (dict, list)) and (name is None or name.endswith(".json")):
        name = name or "data.json"
        digest, size = blobs.put_bytes(json.dumps(obj, indent=2, default=str).encode("utf-8"))
        return [_row(run, name, digest, size, "json", "application/json")], name
    name = name or f"{type(obj).__name__}.pkl"
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise TypeError(f"cannot store a {type(obj).__name__}: it is not a file, text, bytes, figure or "
                        f"DataFrame, and pickling failed ({error})") from None
    digest, size = blobs.put_bytes(data)
    return [_row(run, name, digest, size, "pickle", "application/x-python-pickle")], name


def _prepare_path(run: "Run", blobs, path: Path, name: str | None) -> tuple[list[dict], str]:
    if not path.exists():
        raise FileNotFoundError(f"no file or directory at {str(path)!r}")
    if path.is_file():
        name = name or safe_artifact_name(path.name)
        digest, size = blobs.put_file(path)
        return [_row(run, name, digest, size, "file", _media_type(name))], name
    base = name or safe_artifact_name(path.resolve().name)
    rows = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        member = safe_artifact_name(f"{base}/{file.relative_to(path).as_posix()}")
        digest, size = blobs.put_file(file)
        rows.append(_row(run, member, digest, size, "file", _media_type(member)))
    return rows, base
