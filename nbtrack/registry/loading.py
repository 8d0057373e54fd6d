"""Loading a model safely: nothing runs code from a file unless the caller said they trust it.

- skops files (kind ``skops``, or a logged file named ``*.skops``) load with skops' own check:
  every type in the file must be one skops trusts by default or one the caller lists in
  ``trust=[...]``; otherwise :class:`UntrustedModelError` names the untrusted types (with
  skops' reasons) and the exact call that trusts them. ``trust=True`` is refused for skops
  files: skops dropped blanket trust after CVE-2024-37065, the list is the point.
- pickles (kind ``pickle``, ``*.pkl``/``*.pickle``) and joblib files (``*.joblib``, which are
  pickles) load only with ``trust=True``; ``trust=[...]`` unpickles with only the listed
  globals importable. The error lists the globals the pickle imports (read with pickletools,
  without unpickling).
- a logged directory, or a binary file of another format (``*.onnx``, ``*.pt``, ``*.ubj``), is
  handed back as a local path (copied out of the store under its own name) for the library
  that reads it; text, JSON, DataFrames and figures load as ``ArtifactRecord.load`` loads them.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import MissingDependencyError, UntrustedModelError

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

PICKLE_SUFFIXES = (".pkl", ".pickle")
JOBLIB_SUFFIXES = (".joblib",)
SKOPS_SUFFIXES = (".skops",)


def format_of(kind: str, name: str) -> str:
    """How a stored artifact loads: ``skops``, ``pickle``, ``joblib``, ``directory``, ``path`` or ``kind``."""
    lower = name.lower()
    if kind == "directory":
        return "directory"
    if kind == "skops" or lower.endswith(SKOPS_SUFFIXES):
        return "skops"
    if kind == "pickle" or lower.endswith(PICKLE_SUFFIXES):
        return "pickle"
    if lower.endswith(JOBLIB_SUFFIXES):
        return "joblib"
    return "kind"


def _skops():
    try:
        import skops.io as sio
    except ImportError as error:
        raise MissingDependencyError("skops", "skops", "loading a .skops model", str(error)) from None
    return sio


def _trust_call(call: str, names: Sequence[str]) -> str:
    return f"nbtrack.load_model({call}, trust={sorted(names)!r})"


def _load_skops(data: bytes, trust: Any, call: str) -> Any:
    from skops.io.exceptions import UntrustedTypesFoundException

    sio = _skops()
    if trust is True:
        untrusted = sio.get_untrusted_types(data=data)
        raise UntrustedModelError(
            f"{call} is a skops file: skops takes the list of types you reviewed, not trust=True (it dropped "
            f"blanket trust after CVE-2024-37065). " + (
                f"Its types skops does not trust by default: {', '.join(untrusted)}; after reviewing them: "
                f"{_trust_call(call, untrusted)}" if untrusted else
                f"Every type in it is trusted by default: nbtrack.load_model({call}) loads it"),
            "skops", untrusted)
    trusted = [str(t) for t in trust] if trust else None
    try:
        return sio.loads(data, trusted=trusted)
    except UntrustedTypesFoundException:
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in (trusted or [])]
        reasons = _skops_reasons(untrusted)
        raise UntrustedModelError(
            f"{call} holds types skops does not trust by default: {', '.join(untrusted)}.{reasons} "
            f"Review them; to load it anyway, name them: {_trust_call(call, untrusted + (trusted or []))}",
            "skops", untrusted) from None


def _skops_reasons(types: Sequence[str]) -> str:
    try:
        from skops.io.exceptions import UNTRUSTED_TYPE_REASONS
    except ImportError:  # older skops
        return ""
    notes = [f" {name}: {UNTRUSTED_TYPE_REASONS[name].split('. ')[0].rstrip('.')}."
             for name in types if name in UNTRUSTED_TYPE_REASONS]
    return "".join(notes)


# -- pickle -----------------------------------------------------------------------------------------

_STRING_OPCODES = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
                   "BINSTRING", "STRING"}
_QUIET_OPCODES = {"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "STOP"}


def pickle_globals(data: bytes) -> list[str]:
    """The ``module.name`` globals a pickle imports, read from its opcodes (nothing is unpickled).

    STACK_GLOBAL takes its two names from the stack: the strings pushed (or fetched from the memo)
    just before it, which is how every pickler writes them.
    """
    found: set[str] = set()
    recent: list[Any] = []
    memo: dict[int, Any] = {}
    try:
        for opcode, argument, _position in pickletools.genops(data):
            name = opcode.name
            if name in ("GLOBAL", "INST"):
                module, qualname = str(argument).split(" ", 1)
                found.add(f"{module}.{qualname}")
                recent.append(None)
            elif name == "STACK_GLOBAL":
                module, qualname = (recent[-2:] + [None, None])[:2] if len(recent) >= 2 else (None, None)
                found.add(f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str)
                          else "<a global built at load time>")
                recent.append(None)
            elif name in _STRING_OPCODES:
                recent.append(argument if isinstance(argument, str) else argument.decode("latin-1"))
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[argument] = recent[-1] if recent else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                recent.append(memo.get(argument))
            elif name not in _QUIET_OPCODES:
                recent.append(None)
            del recent[:-4]
    except Exception as error:  # a truncated or foreign file: say what could be read
        found.add(f"<unreadable from here: {type(error).__name__}>")
    return sorted(found)


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, allowed: set[str], call: str) -> None:
        super().__init__(file)
        self.allowed, self.call = allowed, call

    def find_class(self, module: str, name: str) -> Any:
        if f"{module}.{name}" not in self.allowed:
            raise UntrustedModelError(
                f"{self.call} imports {module}.{name}, which is not in trust=[...]: add it after reviewing it, "
                "or pass trust=True if you trust the file's source", "pickle", [f"{module}.{name}"])
        return super().find_class(module, name)


def _pickle_refused(data: bytes, call: str, fmt: str) -> UntrustedModelError:
    imported = pickle_globals(data)
    shown = ", ".join(imported[:12]) + (f" and {len(imported) - 12} more" if len(imported) > 12 else "")
    return UntrustedModelError(
        f"{call} is a {fmt} file: unpickling it runs whatever code the file names, so nbtrack loads it only "
        f"when you trust its source: nbtrack.load_model({call}, trust=True), or trust=[...] naming the "
        f"globals it may import. It imports: {shown or 'nothing'}. (Log scikit-learn models as "
        f"'model.skops' to load them without trusting code: pip install 'nbtrack[skops]')",
        "pickle", imported)


def _load_pickle(data: bytes, trust: Any, call: str, fmt: str) -> Any:
    if not trust:
        raise _pickle_refused(data, call, fmt)
    if trust is not True:
        return _AllowListUnpickler(io.BytesIO(data), {str(t) for t in trust}, call).load()
    if fmt == "joblib":
        try:
            import joblib
        except ImportError as error:
            raise MissingDependencyError("joblib", "joblib", "loading a .joblib file", str(error)) from None
        return joblib.load(io.BytesIO(data))
    return pickle.loads(data)  # noqa: S301 - the caller said trust=True


# -- one entry point --------------------------------------------------------------------------------

def load_content(store: "SqlStore", sha256: str, kind: str, media_type: str, name: str, *,
                 trust: Any = False, call: str, dest: Any = None, size: int | None = None) -> Any:
    """Load stored content (a model version's or a run artifact's) as ``format_of`` says.

    ``call`` is how the caller named it (``'models:/churn/3'``), for messages that show the
    call to make.
    """
    from .files import materialize_file, materialize_tree

    if trust is not True and trust is not False and trust is not None and (
            isinstance(trust, (str, bytes)) or not hasattr(trust, "__iter__")):
        raise TypeError(f"trust is True, False or a list of type names such as ['sklearn.tree._tree.Tree'], "
                        f"got {trust!r}")
    fmt = format_of(kind, name)
    if fmt == "directory":
        return materialize_tree(store.blobs, sha256, name.rsplit("/", 1)[-1], dest)
    if fmt == "kind" and kind == "file":  # a file of another format: its path, for the library that reads it
        if size is None:
            size = store.blobs.fs.size(store.blobs.path(sha256))
        return materialize_file(store.blobs, sha256, size, name, dest)
    data = store.blobs.read_bytes(sha256)
    if fmt == "skops":
        return _load_skops(data, trust, call)
    if fmt in ("pickle", "joblib"):
        return _load_pickle(data, trust, call, fmt)
    from ..artifact_kinds import artifact_kind

    return artifact_kind(kind).load(data, name, media_type)


def required_trust(store: "SqlStore", sha256: str, kind: str, name: str) -> list[str]:
    """What ``trust=[...]`` must name to load this content (empty when nothing needs trust)."""
    fmt = format_of(kind, name)
    if fmt == "skops":
        return list(_skops().get_untrusted_types(data=store.blobs.read_bytes(sha256)))
    if fmt in ("pickle", "joblib"):
        return pickle_globals(store.blobs.read_bytes(sha256))
    return []
