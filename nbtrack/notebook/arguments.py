"""Parse the ``%%track`` line into :class:`TrackArgs`; every user mistake is a ``UsageError``.

Both spellings are accepted: ``key=value`` (``%%track experiment=churn``) and ``--key value``
or ``--key=value``. Values may be quoted (``name="first try"``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from IPython.core.error import UsageError

VALUE_OPTIONS = {
    "experiment": "experiment=E",
    "name": "name=N",
    "tags": "tags=k:v,...",
    "params": "params=auto|none|a,b",
    "metrics": "metrics=a,b",
    "artifacts": "artifacts=glob,...",
}
FLAGS = {"nested": "--nested", "no-outputs": "--no-outputs", "quiet": "--quiet", "reuse": "--reuse"}
USAGE = "%%track " + " ".join(f"[{v}]" for v in VALUE_OPTIONS.values()) + " " + " ".join(
    f"[{v}]" for v in FLAGS.values())


@dataclass(frozen=True)
class TrackArgs:
    """What one ``%%track`` line asked for."""

    experiment: str | None = None
    name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: str | tuple[str, ...] = "auto"  # "auto", "none" or explicit names
    metrics: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    nested: bool = False
    outputs: bool = True
    quiet: bool = False
    reuse: bool = False  # skip the body when an identical finished run exists (nbtrack/notebook/reuse.py)


def _error(message: str) -> UsageError:
    return UsageError(f"%%track: {message}.\nUsage: {USAGE}")


def _names(option: str, text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise _error(f"{option}= needs at least one name")
    for name in names:
        if not name.isidentifier():
            raise _error(f"{option}: {name!r} is not a variable name")
    return names


def _tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition(":")
        if not sep or not key.strip():
            raise _error(f"tags: {part!r} is not key:value")
        tags[key.strip()] = value.strip()
    if not tags:
        raise _error("tags= needs at least one key:value")
    return tags


def _tokens(line: str) -> list[tuple[str, str | None]]:
    """Split the line into (option, value) pairs; value None for flags."""
    try:
        words = shlex.split(line, posix=True)
    except ValueError as error:
        raise _error(f"cannot split the arguments ({error})") from None
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--"):
            key, sep, value = word[2:].partition("=")
            if key in FLAGS:
                if sep:
                    raise _error(f"--{key} takes no value")
                pairs.append((key, None))
                continue
            if key not in VALUE_OPTIONS:
                raise _error(f"unknown option {word.partition('=')[0]!r}")
            if not sep:
                if index >= len(words) or words[index].startswith("--"):
                    raise _error(f"--{key} needs a value")
                value = words[index]
                index += 1
            pairs.append((key, value))
            continue
        key, sep, value = word.partition("=")
        if not sep:
            hint = f" (did you mean --{word}?)" if word in FLAGS else ""
            raise _error(f"unexpected argument {word!r}{hint}")
        if key not in VALUE_OPTIONS:
            raise _error(f"unknown option {key!r}")
        pairs.append((key, value))
    return pairs


def parse_track_line(line: str) -> TrackArgs:
    """Parse the arguments of ``%%track``; raise ``UsageError`` listing the valid ones."""
    seen: set[str] = set()
    options: dict[str, object] = {}
    for key, value in _tokens(line or ""):
        if key in seen:
            raise _error(f"{key} is given twice")
        seen.add(key)
        if value is None:
            options[{"nested": "nested", "no-outputs": "outputs", "quiet": "quiet", "reuse": "reuse"}[key]] = \
                key != "no-outputs"
            continue
        value = value.strip()
        if key in ("experiment", "name"):
            if not value:
                raise _error(f"{key}= needs a value")
            options[key] = value
        elif key == "tags":
            options["tags"] = _tags(value)
        elif key == "params":
            options["params"] = value if value in ("auto", "none") else _names("params", value)
        elif key == "metrics":
            options["metrics"] = _names("metrics", value)
        elif key == "artifacts":
            globs = tuple(part.strip() for part in value.split(",") if part.strip())
            if not globs:
                raise _error("artifacts= needs at least one glob")
            options["artifacts"] = globs
    return TrackArgs(**options)  # type: ignore[arg-type]


NBTRACK_COMMANDS = {
    "": "%nbtrack                    status: store, default experiment, JupyterLab extension",
    "store": "%nbtrack store URI          use this store (a SQLite path or a database URI)",
    "experiment": "%nbtrack experiment NAME    default experiment for later cells",
    "runs": "%nbtrack runs [FILTER]      the runs table",
    "dashboard": "%nbtrack dashboard [FILTER] the dashboard",
}
NBTRACK_USAGE = "\n".join(NBTRACK_COMMANDS.values())


def parse_nbtrack_line(line: str) -> tuple[str, str]:
    """(command, argument) of a ``%nbtrack`` line; ``UsageError`` for unknown commands."""
    command, _, rest = (line or "").strip().partition(" ")
    rest = rest.strip()
    if command not in NBTRACK_COMMANDS:
        raise UsageError(f"%nbtrack: unknown command {command!r}.\n{NBTRACK_USAGE}")
    if command in ("store", "experiment"):
        if not rest:
            raise UsageError(f"%nbtrack {command}: give a value.\n{NBTRACK_COMMANDS[command]}")
        if len(shlex.split(rest)) != 1:
            raise UsageError(f"%nbtrack {command}: give exactly one value (quote it if it has spaces).\n"
                             f"{NBTRACK_COMMANDS[command]}")
        rest = shlex.split(rest)[0]
    if command == "" and rest:
        raise UsageError(f"%nbtrack: unknown command.\n{NBTRACK_USAGE}")
    return command, rest
