"""The kinds of artifact nbtrack stores: one table used by the write side and by ``ArtifactRecord.load``.

Each kind says which objects it takes, its media type, how to turn the object into bytes
(``dump``) and how to turn the bytes back into an object (``load``). Heavy libraries (pandas,
matplotlib, plotly, skops) are imported only inside ``dump``/``load``, so importing this module
(and the store, which uses it) imports none of them.
"""

from __future__ import annotations

import io
import json
import mimetypes
import pickle
from dataclasses import dataclass
from typing import Any, Callable

from .errors import MissingDependencyError

DEFAULT_MEDIA_TYPE = "application/octet-stream"
MEDIA_TYPE_MAX = 100  # the artifacts.media_type column holds 100 characters


@dataclass(frozen=True)
class ArtifactKind:
    """One kind of artifact.

    ``kind`` is what the ``artifacts.kind`` column stores. ``accepts(obj, name)`` tells whether
    the write side stores ``obj`` as this kind; ``dump(obj, name)`` returns its bytes;
    ``load(data, name, media_type)`` rebuilds the object. ``default_name`` is used when the
    caller gives none (None: a name is required, ``name_hint`` says how to give one).
    ``media_type`` is the default; with ``guess_media_type`` the name's extension wins.
    """

    kind: str
    media_type: str
    accepts: Callable[[Any, "str | None"], bool]
    dump: Callable[[Any, str], bytes]
    load: Callable[[bytes, str, str], Any]
    default_name: Callable[[Any], str] | None = None
    name_hint: str = ""
    guess_media_type: bool = True

    def media_type_for(self, name: str) -> str:
        """The media type stored for an artifact of this kind called ``name``."""
        if not self.guess_media_type:
            return self.media_type
        guessed = mimetypes.guess_type(name)[0] or _EXTRA_MEDIA_TYPES.get(_suffix(name)) or self.media_type
        return guessed if len(guessed) <= MEDIA_TYPE_MAX else self.media_type


_EXTRA_MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet"}


def _suffix(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""


def _module_of(obj: Any) -> str:
    return type(obj).__module__ or ""


# -- text and bytes -------------------------------------------------------------------------------

def _text_or_bytes(data: bytes, name: str, media_type: str) -> Any:
    return data.decode("utf-8") if media_type.startswith("text/") else data


# -- matplotlib -----------------------------------------------------------------------------------

_FIGURE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg")


def _is_matplotlib_figure(obj: Any, name: str | None) -> bool:
    return _module_of(obj).startswith("matplotlib") and hasattr(obj, "savefig")


def _dump_matplotlib(obj: Any, name: str) -> bytes:
    buffer = io.BytesIO()
    fmt = _suffix(name)
    obj.savefig(buffer, format=fmt if fmt in _FIGURE_FORMATS else "png", bbox_inches="tight")
    return buffer.getvalue()


# -- plotly ---------------------------------------------------------------------------------------

def _is_plotly_figure(obj: Any, name: str | None) -> bool:
    return _module_of(obj).startswith("plotly") and hasattr(obj, "to_json")


def _load_plotly(data: bytes, name: str, media_type: str) -> Any:
    import plotly.io as pio

    return pio.from_json(data.decode("utf-8"))


# -- DataFrame (CSV, or parquet when the name ends with .parquet) -----------------------------------

def _is_dataframe(obj: Any, name: str | None) -> bool:
    return type(obj).__name__ == "DataFrame" and _module_of(obj).startswith("pandas")


def _needs_parquet_engine(error: ImportError) -> ImportError:
    return MissingDependencyError("pyarrow", "parquet", "storing a DataFrame as parquet", str(error))


def _dump_dataframe(obj: Any, name: str) -> bytes:
    if _suffix(name) != "parquet":
        return obj.to_csv(index=False).encode("utf-8")
    buffer = io.BytesIO()
    try:
        obj.to_parquet(buffer)
    except ImportError as error:
        raise _needs_parquet_engine(error) from None
    return buffer.getvalue()


def _load_dataframe(data: bytes, name: str, media_type: str) -> Any:
    import pandas as pd

    if _suffix(name) != "parquet":
        return pd.read_csv(io.BytesIO(data))
    try:
        return pd.read_parquet(io.BytesIO(data))
    except ImportError as error:
        raise _needs_parquet_engine(error) from None


# -- JSON -----------------------------------------------------------------------------------------

def _is_json(obj: Any, name: str | None) -> bool:
    return isinstance(obj, (dict, list)) and (name is None or _suffix(name) == "json")


# -- skops (scikit-learn models without pickle's risks; chosen by a name ending in .skops) --------

def _needs_skops(error: ImportError) -> ImportError:
    return MissingDependencyError("skops", "skops", "the .skops format", str(error))


def _dump_skops(obj: Any, name: str) -> bytes:
    try:
        import skops.io as sio
    except ImportError as error:
        raise _needs_skops(error) from None
    return sio.dumps(obj)


def _load_skops(data: bytes, name: str, media_type: str) -> Any:
    """Load with skops' default trust: types it does not trust raise, naming them."""
    try:
        import skops.io as sio
    except ImportError as error:
        raise _needs_skops(error) from None
    return sio.loads(data)


# -- pickle (anything else) -----------------------------------------------------------------------

def _dump_pickle(obj: Any, name: str) -> bytes:
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise TypeError(f"cannot store a {type(obj).__name__}: it is not a file, text, bytes, figure or "
                        f"DataFrame, and pickling failed ({error})") from None


def _load_pickle(data: bytes, name: str, media_type: str) -> Any:
    return pickle.loads(data)  # noqa: S301 - explicit, by name, on the caller's request


KINDS: tuple[ArtifactKind, ...] = (
    ArtifactKind(
        "text", "text/plain",
        accepts=lambda obj, name: isinstance(obj, str),
        dump=lambda obj, name: obj.encode("utf-8"),
        load=_text_or_bytes,
        name_hint="to log it as text, pass a name: log_artifact(text, name='notes.txt')"),
    ArtifactKind(
        "file", DEFAULT_MEDIA_TYPE,
        accepts=lambda obj, name: isinstance(obj, (bytes, bytearray, memoryview)),
        dump=lambda obj, name: bytes(obj),
        load=_text_or_bytes,
        name_hint="bytes need a name: log_artifact(data, name='weights.bin')"),
    ArtifactKind(
        "figure", "image/png", accepts=_is_matplotlib_figure, dump=_dump_matplotlib, load=_text_or_bytes,
        default_name=lambda obj: "figure.png"),
    ArtifactKind(
        "plotly", "application/vnd.plotly.v1+json", accepts=_is_plotly_figure,
        dump=lambda obj, name: obj.to_json().encode("utf-8"), load=_load_plotly,
        default_name=lambda obj: "figure.plotly.json", guess_media_type=False),
    ArtifactKind(
        "dataframe", "text/csv", accepts=_is_dataframe, dump=_dump_dataframe, load=_load_dataframe,
        default_name=lambda obj: "data.csv"),
    ArtifactKind(
        "json", "application/json", accepts=_is_json,
        dump=lambda obj, name: json.dumps(obj, indent=2, default=str).encode("utf-8"),
        load=lambda data, name, media_type: json.loads(data),
        default_name=lambda obj: "data.json", guess_media_type=False),
    ArtifactKind(
        "skops", "application/x-skops",
        accepts=lambda obj, name: name is not None and _suffix(name) == "skops",
        dump=_dump_skops, load=_load_skops, guess_media_type=False),
    ArtifactKind(  # one step of a media series (nbtrack.media): written only by log_image / log_figure
        "media", "image/png", accepts=lambda obj, name: False,
        dump=lambda obj, name: bytes(obj), load=lambda data, name, media_type: _load_media(data, name, media_type),
        guess_media_type=False),
    ArtifactKind(
        "pickle", "application/x-python-pickle", accepts=lambda obj, name: True,
        dump=_dump_pickle, load=_load_pickle,
        default_name=lambda obj: f"{type(obj).__name__}.pkl", guess_media_type=False),
)

_BY_KIND = {kind.kind: kind for kind in KINDS}


def _load_media(data: bytes, name: str, media_type: str) -> Any:
    from .media import load_media

    return load_media(data, name, media_type)


def artifact_kind(kind: str) -> ArtifactKind:
    """The kind stored as ``kind``; the error lists the valid choices."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown artifact kind {kind!r}; known kinds: {', '.join(_BY_KIND)}") from None


def kind_for_object(obj: Any, name: str | None) -> ArtifactKind:
    """The first kind in ``KINDS`` that takes ``obj`` (named ``name``, or unnamed)."""
    return next(kind for kind in KINDS if kind.accepts(obj, name))
