"""``%%track`` and ``%nbtrack``: declare, parse, delegate.

Settings are traitlets, so ``%config TrackMagics.experiment = "churn"`` works as well as
``%nbtrack experiment churn``.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import Bool, Unicode, observe

from . import frontend_link
from .arguments import parse_nbtrack_line, parse_track_line
from .tracker import CellTracker, Settings


@magics_class
class TrackMagics(Magics):
    """Track notebook cells as runs."""

    experiment = Unicode(None, allow_none=True, help="Default experiment of %%track cells.").tag(config=True)
    store = Unicode(None, allow_none=True, help="Store URI (or SQLite path) runs are written to.").tag(config=True)
    quiet = Bool(False, help="Do not show the line after each tracked cell.").tag(config=True)
    capture_outputs = Bool(True, help="Save the images, figures and tables a cell shows.").tag(config=True)

    def __init__(self, shell: Any, tracker: CellTracker, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.tracker = tracker

    @observe("store")
    def _store_changed(self, change: dict) -> None:
        import nbtrack

        nbtrack.set_store(change["new"] or None)

    @observe("experiment")
    def _experiment_changed(self, change: dict) -> None:
        import nbtrack

        nbtrack.set_experiment(change["new"] or None)

    @cell_magic
    def track(self, line: str, cell: str) -> None:
        """Run the cell as one tracked run.

        %%track [experiment=E] [name=N] [tags=k:v,...] [params=auto|none|a,b] [metrics=a,b]
                [artifacts=glob,...] [--nested] [--no-outputs] [--quiet] [--reuse]
        """
        args = parse_track_line(line)
        self.tracker.track(args, line, cell, Settings(self.experiment, self.quiet, self.capture_outputs))

    @line_magic("nbtrack")
    def nbtrack_magic(self, line: str) -> Any:
        """Status and settings of nbtrack in this kernel.

        %nbtrack | %nbtrack store URI | %nbtrack experiment NAME | %nbtrack runs [FILTER]
        | %nbtrack dashboard [FILTER]
        """
        command, argument = parse_nbtrack_line(line)
        if command == "store":
            self.store = argument
            print(f"nbtrack: store is {_store_uri()}")
        elif command == "experiment":
            self.experiment = argument
            print(f"nbtrack: new runs go to experiment {argument!r}")
        elif command == "runs":
            return self._runs(argument or None)
        elif command == "dashboard":
            return self._dashboard(argument or None)
        else:
            print(self.status())
        return None

    def status(self) -> str:
        from .. import config

        connected = frontend_link.connected()
        return "\n".join([
            f"nbtrack store:      {_store_uri()}",
            f"default experiment: {self.experiment or config.default_experiment()}",
            f"JupyterLab extension: {'connected' if connected else 'not connected'}",
        ])

    def _runs(self, filter_text: str | None) -> Any:
        import nbtrack

        from ..errors import FilterSyntaxError

        try:
            frame = nbtrack.runs(experiment=self.experiment or None, filter=filter_text)
        except FilterSyntaxError as error:
            raise UsageError(f"%nbtrack runs: {error}") from None
        hidden = [c for c in frame.columns if c.startswith("tags.nbtrack.")]
        return frame.drop(columns=hidden)

    def _dashboard(self, filter_text: str | None) -> Any:
        import nbtrack

        from ..errors import FilterSyntaxError

        try:
            return nbtrack.dashboard(experiment=self.experiment or None, filter=filter_text)
        except FilterSyntaxError as error:
            raise UsageError(f"%nbtrack dashboard: {error}") from None


def _store_uri() -> str:
    from .. import config
    from ..store.sql import redact_uri

    return redact_uri(config.store_uri())
