"""Moving runs between nbtrack and other trackers (docs/interop.md).

Readers turn another tracker's runs into :class:`~nbtrack.interop.model.ImportedRun` (the one
interchange form); :mod:`nbtrack.interop.writer` writes them into the nbtrack store through
its batch primitive, idempotently. Exporters go the other way.

- :mod:`~nbtrack.interop.mlflow_sql`: MLflow SQLite / PostgreSQL tracking databases
- :mod:`~nbtrack.interop.mlflow_files`: MLflow ``mlruns`` directories
- :mod:`~nbtrack.interop.mlflow_export` (+ ``mlflow_writer.py``, run by the real mlflow in a
  child process): nbtrack runs into any MLflow store
- :mod:`~nbtrack.interop.trackio`: Trackio's local SQLite projects
- :mod:`~nbtrack.interop.wandb_runs`: W&B offline run directories
"""
