"""MLflow's artifact calls on nbtrack runs: same artifact paths and, for dicts, text and
tables, the same bytes MLflow writes.

``target`` is anything with ``log_artifact(obj, name)`` and ``run_id`` (a Run or a StoredRun).
"""

from __future__ import annotations

import json
import os
import posixpath
import time
import uuid
from pathlib import Path
from typing import Any

from .entities import FileInfo

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"


def _join(artifact_path: str | None, name: str) -> str:
    return posixpath.join(artifact_path.strip("/"), name) if artifact_path else name


def log_artifact(target: Any, local_path: str | os.PathLike, artifact_path: str | None = None) -> None:
    """A file as ``<artifact_path>/<file name>``; a directory as ``<artifact_path>/<dir name>/...``."""
    path = Path(local_path)
    if not path.exists():
        raise FileNotFoundError(f"mlflow.log_artifact: no file or directory at {str(path)!r}")
    target.log_artifact(path, name=_join(artifact_path, path.resolve().name))


def log_artifacts(target: Any, local_dir: str | os.PathLike, artifact_path: str | None = None) -> None:
    """The files inside ``local_dir`` under ``artifact_path`` (the directory's own name is not kept)."""
    root = Path(local_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"mlflow.log_artifacts: {str(root)!r} is not a directory")
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        target.log_artifact(file, name=_join(artifact_path, file.relative_to(root).as_posix()))


def _log_bytes(target: Any, data: bytes, artifact_file: str) -> None:
    target.log_artifact(data, name=artifact_file)


def dict_bytes(dictionary: Any, artifact_file: str) -> bytes:
    """What MLflow's ``log_dict`` writes: YAML for .yml/.yaml, else indented JSON."""
    if os.path.splitext(artifact_file)[1] in (".yml", ".yaml"):
        import yaml

        return yaml.dump(dictionary, indent=2, default_flow_style=False).encode("utf-8")
    return json.dumps(dictionary, indent=2, default=str).encode("utf-8")


def log_dict(target: Any, dictionary: Any, artifact_file: str) -> None:
    _log_bytes(target, dict_bytes(dictionary, artifact_file), artifact_file)


def log_text(target: Any, text: str, artifact_file: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"mlflow.log_text needs a str, not {type(text).__name__}")
    _log_bytes(target, text.encode("utf-8"), artifact_file)


def figure_bytes(figure: Any, artifact_file: str, save_kwargs: dict | None = None) -> bytes:
    """A matplotlib or plotly figure saved as MLflow's ``log_figure`` saves it."""
    import io
    import sys

    save_kwargs = dict(save_kwargs or {})
    extension = os.path.splitext(artifact_file)[1].lower()
    if "matplotlib" in sys.modules and _is_matplotlib_figure(figure):
        buffer = io.BytesIO()
        save_kwargs.setdefault("format", extension.lstrip(".") or "png")
        figure.savefig(buffer, **save_kwargs)
        return buffer.getvalue()
    if "plotly" in sys.modules and type(figure).__module__.startswith("plotly"):
        if extension == ".html":
            save_kwargs.setdefault("include_plotlyjs", "cdn")
            save_kwargs.setdefault("auto_open", False)
            return figure.to_html(**{k: v for k, v in save_kwargs.items() if k != "auto_open"}).encode("utf-8")
        if extension in (".png", ".jpeg", ".webp", ".svg", ".pdf"):
            return figure.to_image(format=extension.lstrip("."), **save_kwargs)
        raise TypeError(f"mlflow.log_figure: unsupported file extension for a plotly figure: {extension!r} "
                        "(use .html, .png, .jpeg, .webp, .svg or .pdf)")
    raise TypeError(f"mlflow.log_figure needs a matplotlib or plotly figure, not {type(figure).__name__}")


def _is_matplotlib_figure(figure: Any) -> bool:
    import matplotlib.figure

    return isinstance(figure, matplotlib.figure.Figure)


def log_figure(target: Any, figure: Any, artifact_file: str, save_kwargs: dict | None = None) -> None:
    _log_bytes(target, figure_bytes(figure, artifact_file, save_kwargs), artifact_file)


def image_png(image: Any) -> bytes:
    """A numpy array (HW, HWC; float in [0, 1] or integers in [0, 255]) or PIL image as PNG."""
    import io

    try:
        from PIL import Image
    except ImportError:
        from ..errors import MissingDependencyError

        raise MissingDependencyError("Pillow", "examples", "mlflow.log_image") from None
    if not isinstance(image, Image.Image):
        import numpy as np

        array = np.asarray(image)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
            raise ValueError(f"mlflow.log_image: an image is (height, width) or (height, width, 1|3|4), "
                             f"not shape {array.shape}")
        if array.dtype.kind == "f":
            if array.min() < 0 or array.max() > 1:
                raise ValueError("mlflow.log_image: float pixel values must lie in [0, 1]")
            array = (array * 255).round()
        elif array.dtype.kind in "iu" and (array.min() < 0 or array.max() > 255):
            raise ValueError("mlflow.log_image: integer pixel values must lie in [0, 255]")
        image = Image.fromarray(array.astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def log_image(target: Any, image: Any, artifact_file: str | None = None, key: str | None = None,
              step: int | None = None, timestamp: int | None = None) -> str:
    """A static image (``artifact_file``) or a step of an image series (``key``, ``step``), named as MLflow names it."""
    if artifact_file is not None and (key is not None or step is not None or timestamp is not None):
        raise ValueError("mlflow.log_image: give artifact_file, or key (with step and timestamp), not both")
    if artifact_file is None and key is None:
        raise ValueError("mlflow.log_image: give artifact_file (a static image) or key (an image per step)")
    if artifact_file is None:
        stamp = timestamp or int(time.time() * 1000)
        artifact_file = (f"images/{key.replace('/', '~')}+step+{step or 0}+timestamp+{stamp}+"
                         f"{uuid.uuid4()}.png")
    _log_bytes(target, image_png(image), artifact_file)
    return artifact_file


def table_bytes(data: Any, artifact_file: str) -> bytes:
    """A dict or DataFrame as MLflow's ``log_table`` writes it (JSON "split" orient, or parquet)."""
    import pandas as pd

    if not artifact_file.endswith((".json", ".parquet")):
        raise ValueError(f"mlflow.log_table: the artifact file {artifact_file!r} must end with .json or .parquet")
    if isinstance(data, dict):
        try:
            data = pd.DataFrame(data)
        except ValueError:
            data = pd.DataFrame([data])
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"mlflow.log_table needs a pandas DataFrame or a dict, not {type(data).__name__}")
    if artifact_file.endswith(".json"):
        return data.to_json(orient="split", index=False, date_format="iso").encode("utf-8")
    import io

    buffer = io.BytesIO()
    data.to_parquet(buffer, index=False)
    return buffer.getvalue()


def log_table(target: Any, data: Any, artifact_file: str, logged_tags: dict[str, str]) -> None:
    """The table, and the ``mlflow.loggedArtifacts`` tag the MLflow UI reads to find it."""
    _log_bytes(target, table_bytes(data, artifact_file), artifact_file)
    listed = json.loads(logged_tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    entry = {"path": artifact_file, "type": "table"}
    if entry not in listed:
        listed.append(entry)
        target.set_tag(LOGGED_ARTIFACTS_TAG, json.dumps(listed))


def list_artifacts(names: list[tuple[str, int]], path: str | None = None) -> list[FileInfo]:
    """The direct children of ``path`` among ``(name, size)`` artifacts, as MLflow lists them."""
    prefix = (path.strip("/") + "/") if path and path.strip("/") else ""
    children: dict[str, FileInfo] = {}
    for name, size in names:
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix):]
        head, sep, _ = rest.partition("/")
        full = prefix + head
        children[full] = FileInfo(full, True, None) if sep else FileInfo(full, False, int(size))
    return sorted(children.values(), key=lambda info: info.path)


def download_artifacts(record: Any, path: str | None, dst_path: str | os.PathLike | None) -> str:
    """Write one artifact, or every artifact under ``path``, below ``dst_path``; returns the local path."""
    import tempfile

    destination = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="nbtrack-artifacts-"))
    prefix = (path or "").strip("/")
    chosen = [a for a in record.artifacts if not prefix or a.name == prefix or a.name.startswith(prefix + "/")]
    if not chosen:
        from ..errors import ArtifactNotFoundError

        raise ArtifactNotFoundError(record.run_id, prefix, [a.name for a in record.artifacts])
    root = destination.resolve()
    for artifact in chosen:
        file = (root / artifact.name).resolve()
        if root not in file.parents:  # names are checked when logged; never write outside dst_path
            raise ValueError(f"artifact name {artifact.name!r} leaves the destination directory")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(artifact.read_bytes())
    return str(root / prefix) if prefix else str(root)
