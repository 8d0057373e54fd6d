"""The notebook layer: ``%%track`` and ``%nbtrack``, notebook snapshots, kernel history,
hidden-state reports, checkout and source diffs of tracked runs.

Modules, one job each: ``arguments`` (parse the magic line), ``cellparams`` (params found
in a cell), ``cellsource`` (comparing cell sources as IPython hands them over), ``outputs``
(rich outputs of a cell), ``snapshot`` (taking the notebook's snapshot), ``stored_snapshot``
(the one reader of stored snapshots), ``cellrun`` (the per-cell state of a tracked run),
``history`` (what this kernel executed), ``hidden_state`` (what may be stale), ``tracker``
(one tracked cell, start to end), ``summary`` (the line shown after it), ``magics`` and
``extension`` (IPython glue), ``context`` (source of non-%%track runs), ``checkout``,
``sourcediff``, ``runner`` and ``commands`` (reproduce and CLI).
"""

from .context import register as _register_source_context

_register_source_context()  # the core calls the notebook layer's hook when a run starts
