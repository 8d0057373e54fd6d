"""Rich outputs of a tracked cell: seen as they are displayed, without changing what is shown.

:class:`OutputCapture` wraps the shell's display publisher (``display()``, ``plt.show()``,
``fig.show()``) and the display hook (the cell's last expression) while the cell runs;
each output is passed on unchanged. Matplotlib inline figures, which IPython would only
flush after the cell, are flushed inside the capture so they are seen too.
:func:`output_artifacts` turns the captured bundles into artifacts: PNG/JPEG/SVG images,
plotly figures (JSON) and HTML tables.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from typing import Any

from ..secrets import redact, redact_document

# (mime type, file extension) in order of preference for one output
_SAVED = (
    ("application/vnd.plotly.v1+json", "plotly.json"),
    ("image/png", "png"),
    ("image/svg+xml", "svg"),
    ("image/jpeg", "jpg"),
)
MAX_TEXT = 2000
MAX_STREAM = 20000


@dataclass
class CapturedOutput:
    output_type: str  # display_data | execute_result
    data: dict[str, Any]


class OutputCapture:
    """Context manager recording the mime bundles the cell displays."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.outputs: list[CapturedOutput] = []
        self.streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._sizes = {"stdout": 0, "stderr": 0}
        self._restore: list[tuple[Any, str, Any]] = []

    def _wrap(self, owner: Any, attribute: str, output_type: str, data_position: int) -> None:
        original = getattr(owner, attribute, None)
        if original is None:
            return
        had_own = attribute in vars(owner)
        outputs = self.outputs

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                data = args[data_position] if len(args) > data_position else kwargs.get(
                    "data" if output_type == "display_data" else "format_dict")
                if isinstance(data, dict) and not kwargs.get("update"):
                    outputs.append(CapturedOutput(output_type, dict(data)))
            except Exception:  # never disturb the display itself
                pass
            return original(*args, **kwargs)

        setattr(owner, attribute, wrapper)
        self._restore.append((owner, attribute, original if had_own else None))

    def _tee(self, name: str) -> None:
        stream = getattr(sys, name, None)
        original = getattr(stream, "write", None)
        if original is None:
            return
        had_own = "write" in getattr(stream, "__dict__", {})
        parts, sizes = self.streams[name], self._sizes

        def write(text: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(text, str) and sizes[name] < MAX_STREAM:
                parts.append(text[: MAX_STREAM - sizes[name]])
                sizes[name] += len(parts[-1])
            return original(text, *args, **kwargs)

        try:
            stream.write = write
        except (AttributeError, TypeError):  # a stream that does not take attributes
            return
        self._restore.append((stream, "write", original if had_own else None))

    def __enter__(self) -> "OutputCapture":
        self._wrap(self.shell.display_pub, "publish", "display_data", 0)
        self._wrap(self.shell.displayhook, "write_format_data", "execute_result", 0)
        self._tee("stdout")
        self._tee("stderr")
        return self

    def stream_text(self, name: str) -> str:
        """What the cell printed to ``stdout`` or ``stderr`` (the first 20,000 characters)."""
        return "".join(self.streams[name])

    def flush_inline_figures(self) -> None:
        """Display pending matplotlib inline figures now, so they are captured."""
        module = sys.modules.get("matplotlib_inline.backend_inline")
        if module is None or "matplotlib.pyplot" not in sys.modules:
            return
        import matplotlib

        if "inline" not in str(matplotlib.get_backend()).lower():
            return
        module.flush_figures()

    def __exit__(self, *exc: Any) -> None:
        for owner, attribute, original in reversed(self._restore):
            if original is None:
                try:
                    delattr(owner, attribute)
                except AttributeError:
                    pass
            else:
                setattr(owner, attribute, original)
        self._restore.clear()


def _payload(mime: str, value: Any) -> bytes | None:
    if mime.startswith("image/") and mime != "image/svg+xml":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, str):
            try:
                return base64.b64decode(value)
            except ValueError:
                return None
        return None
    if mime == "application/vnd.plotly.v1+json":
        return json.dumps(redact_document(value)).encode("utf-8")
    if isinstance(value, list):  # multi-line strings as lists in nbformat
        value = "".join(value)
    if isinstance(value, str):  # HTML tables, SVG: secrets the cell displayed are redacted
        return redact(value).encode("utf-8")
    return None


def _is_table(html: Any) -> bool:
    text = "".join(html) if isinstance(html, list) else html
    return isinstance(text, str) and "<table" in text.lower()


def output_artifacts(outputs: list[CapturedOutput]) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(artifact name, content, summary) for each output worth saving, plus a summary of
    every output (``artifact`` is None for outputs not saved)."""
    saved: list[tuple[str, bytes, dict[str, Any]]] = []
    for number, output in enumerate(outputs, start=1):
        data = output.data
        summary: dict[str, Any] = {"output_type": output.output_type, "mime_types": sorted(data)}
        text = data.get("text/plain")
        if isinstance(text, str):
            summary["text"] = text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."
        choice = next(((mime, ext) for mime, ext in _SAVED if mime in data), None)
        if choice is None and _is_table(data.get("text/html")):
            choice = ("text/html", "html")
        content = _payload(choice[0], data[choice[0]]) if choice else None
        if choice is None or content is None:
            summary["artifact"] = None
            saved.append(("", b"", summary))
            continue
        name = f"outputs/output-{number}.{choice[1]}"
        summary["artifact"] = name
        saved.append((name, content, summary))
    return saved
