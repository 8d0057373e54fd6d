"""Media per step: ``log_image`` / ``log_figure`` keep one image (or figure) per step of a
named series, so the dashboard can show how it changed (a confusion matrix per epoch).

Storage, with no schema of its own: each step is an artifact of kind ``media`` named
``<name>/step-<step, 9 digits or more>.<ext>`` (``confusion/step-000000012.png``), its
content a blob in the content-addressed store like every artifact (an image that does not
change between steps is stored once). :func:`parse_media_name` reads a name back.

What is accepted: matplotlib figures (PNG), plotly figures (their JSON, shown as live
figures), numpy arrays (``HxW`` grey, ``HxWx3`` RGB, ``HxWx4`` RGBA; floats in ``[0, 1]``
or integers in ``[0, 255]``; encoded as PNG with zlib, no imaging library needed), PIL
images, PNG/JPEG/GIF/WebP/SVG bytes, and paths of such files.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

MEDIA_KIND = "media"
PLOTLY_TYPE = "application/vnd.plotly.v1+json"
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp", "svg": "image/svg+xml"}
EXTENSIONS = {**{t: e for e, t in IMAGE_TYPES.items() if e != "jpeg"}, PLOTLY_TYPE: "plotly.json"}
STEP_LIMIT = 10**15
_NAME = re.compile(r"^(?P<name>.+)/step-(?P<step>\d{9,16})\.(?P<ext>png|jpg|gif|webp|svg|plotly\.json)$")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))


def media_artifact_name(name: str, step: int, media_type: str) -> str:
    """The artifact name of step ``step`` of series ``name``."""
    return f"{name}/step-{step:09d}.{EXTENSIONS[media_type]}"


def parse_media_name(artifact_name: str) -> tuple[str, int] | None:
    """``(series name, step)`` of a media artifact name, or None for any other name."""
    match = _NAME.match(artifact_name)
    return (match["name"], int(match["step"])) if match else None


def check_step(name: str, step: Any) -> int:
    """A media step: an integer from 0 (steps order the slider)."""
    if isinstance(step, bool) or not isinstance(step, int):
        if hasattr(step, "item") and type(step).__module__ == "numpy":
            return check_step(name, step.item())
        raise TypeError(f"step of media {name!r} must be an integer, not {type(step).__name__}")
    if not 0 <= step < STEP_LIMIT:
        raise ValueError(f"step of media {name!r} must be between 0 and {STEP_LIMIT - 1:,}, got {step}")
    return step


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def is_figure(obj: Any) -> bool:
    """A matplotlib or plotly figure."""
    module = _module(obj)
    return (module.startswith("matplotlib") and hasattr(obj, "savefig")) or (
        module.startswith("plotly") and hasattr(obj, "to_json"))


def encode_media(obj: Any, name: str) -> tuple[bytes, str]:
    """``(content, media type)`` of an image or figure; TypeError/ValueError say what to pass instead."""
    module = _module(obj)
    if module.startswith("matplotlib") and hasattr(obj, "savefig"):
        buffer = io.BytesIO()
        obj.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue(), "image/png"
    if module.startswith("plotly") and hasattr(obj, "to_json"):
        from .secrets import redact

        return redact(obj.to_json()).encode("utf-8"), PLOTLY_TYPE
    if module.startswith("PIL") and hasattr(obj, "save"):
        buffer = io.BytesIO()
        image = obj if obj.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else obj.convert("RGBA")
        image.save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
    if module.startswith("numpy") and hasattr(obj, "shape"):
        return png_from_array(obj, name), "image/png"
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _sniffed(bytes(obj), name)
    if isinstance(obj, (str, Path)) and "\n" not in str(obj) and os.path.isfile(obj):
        return _from_file(Path(obj), name)
    if isinstance(obj, str):
        raise ValueError(f"media {name!r}: {obj[:60]!r} is not an existing image file")
    raise TypeError(f"media {name!r}: cannot show a {type(obj).__name__}; pass a matplotlib or plotly "
                    "figure, a numpy array (HxW, HxWx3, HxWx4), a PIL image, image bytes or an image file path")


def _from_file(path: Path, name: str) -> tuple[bytes, str]:
    extension = path.suffix.lower().lstrip(".")
    if extension not in IMAGE_TYPES:
        raise ValueError(f"media {name!r}: {path.name} is not an image nbtrack can show "
                         f"(use {', '.join(sorted(IMAGE_TYPES))}); log other files with log_artifact")
    data = path.read_bytes()
    if extension == "svg":
        from .secrets import redact

        return redact(data.decode("utf-8", "replace")).encode("utf-8"), IMAGE_TYPES["svg"]
    return data, IMAGE_TYPES[extension]


def _sniffed(data: bytes, name: str) -> tuple[bytes, str]:
    for magic, extension in _MAGIC:
        if data.startswith(magic):
            return data, IMAGE_TYPES[extension]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return data, IMAGE_TYPES["webp"]
    raise ValueError(f"media {name!r}: these bytes are not a PNG, JPEG, GIF or WebP image")


def png_from_array(array: Any, name: str = "image") -> bytes:
    """PNG bytes of a numpy image: ``HxW`` grey, ``HxWx3`` RGB or ``HxWx4`` RGBA.

    Floats are read as ``[0, 1]`` (clipped), booleans as black/white, integers as
    ``[0, 255]`` (clipped). NaN becomes 0.
    """
    import numpy as np

    pixels = np.asarray(array)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)) or 0 in pixels.shape:
        raise ValueError(f"media {name!r}: an image array is HxW, HxWx3 or HxWx4, not {pixels.shape}")
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    elif pixels.dtype.kind == "f":
        pixels = np.round(np.clip(np.nan_to_num(pixels, nan=0.0), 0.0, 1.0) * 255).astype(np.uint8)
    elif pixels.dtype.kind in "iu":
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"media {name!r}: image values must be numbers, not {pixels.dtype}")
    height, width = pixels.shape[:2]
    colour = {2: 0, 3: 2}[pixels.ndim] if pixels.ndim == 2 or pixels.shape[2] == 3 else 6
    rows = np.ascontiguousarray(pixels).reshape(height, -1)
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), rows]).tobytes()  # filter 0 on every row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def prepare_media(run: Any, obj: Any, name: str, step: int) -> dict:
    """Store the content as a blob; return the artifact row (buffered by the run)."""
    import time

    from . import config
    from .store.blobs import safe_artifact_name

    data, media_type = encode_media(obj, name)
    artifact_name = safe_artifact_name(media_artifact_name(name, step, media_type))
    digest, size = config.store_for(run.store_uri).blobs.put_bytes(data)
    return {"run_id": run.run_id, "name": artifact_name, "sha256": digest, "size": size, "kind": MEDIA_KIND,
            "media_type": media_type, "created_time": time.time()}


def load_media(data: bytes, name: str, media_type: str) -> Any:
    """``ArtifactRecord.load`` of a media artifact: a plotly figure, else the image bytes."""
    if media_type == PLOTLY_TYPE:
        import plotly.io as pio

        return pio.from_json(data.decode("utf-8"))
    return data


__all__ = ["MEDIA_KIND", "encode_media", "png_from_array", "media_artifact_name", "parse_media_name",
           "prepare_media", "check_step", "is_figure", "load_media"]
