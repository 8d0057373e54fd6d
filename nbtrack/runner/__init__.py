"""Running notebooks again: ``nbtrack rerun`` (a past run's snapshot in a fresh kernel, its metrics
compared and a verdict written) and ``nbtrack sweep`` (a notebook once per parameter combination).

The layer above the notebook layer: it executes notebooks through nbclient and reads snapshots.
Modules: ``rerun.py``, ``compare.py`` (metrics within a tolerance), ``verdict.py`` (what show and
the dashboard say), ``sweep.py``, ``params.py`` (grids and injection), ``execute.py`` (one kernel),
``commands.py`` (the CLI). The launch context a launched kernel's runs read is in the core
(``nbtrack/sweep_launch.py``).
"""
