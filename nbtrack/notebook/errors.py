"""Errors of the notebook layer (one-line messages that say what to do next)."""

from __future__ import annotations

from ..errors import NbtrackError


class SnapshotNotFoundError(NbtrackError, LookupError):
    """The run has no notebook snapshot."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id[:8]} has no notebook snapshot: only runs tracked in a notebook "
                         "(%%track, or nbtrack.track() in a notebook) have one")


class NotebookNotFoundError(NbtrackError, FileNotFoundError):
    """A notebook file given on the command line does not exist."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no notebook at {path!r}: give the path of an .ipynb file")


class NotebookExecutionError(NbtrackError, RuntimeError):
    """A cell of a notebook run headless raised."""

    def __init__(self, path: str, cell_index: int, ename: str, evalue: str) -> None:
        self.path, self.cell_index, self.ename, self.evalue = path, cell_index, ename, evalue
        super().__init__(f"{path}: cell {cell_index} raised {ename}: {evalue} "
                         "(the partly executed notebook was still written; its runs are in the store)")


class CheckoutExistsError(NbtrackError, FileExistsError):
    """``checkout`` would overwrite an existing file."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path} already exists: choose another path with -o, or pass --force "
                         "(force=True from Python) to overwrite it")
