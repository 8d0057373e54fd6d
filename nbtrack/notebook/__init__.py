"""The notebook layer: ``%%track`` and ``%nbtrack``, notebook snapshots, kernel history,
hidden-state reports, checkout and source diffs of tracked runs.

Modules, one job each: ``arguments`` (parse the magic line), ``cellparams`` (params found
in a cell), ``outputs`` (rich outputs of a cell), ``snapshot`` (the notebook as jupytext),
``history`` (what this kernel executed), ``hidden_state`` (what may be stale), ``tracker``
(one tracked cell, start to end), ``summary`` (the line shown after it), ``magics`` and
``extension`` (IPython glue), ``context`` (source of non-%%track runs), ``checkout``,
``sourcediff``, ``runner`` and ``commands`` (reproduce and CLI).
"""
