"""Write runs into an MLflow store through the real MLflow client (run as a child process).

    python mlflow_writer.py TARGET_URI [ARTIFACT_LOCATION]

Reads one JSON run per line on stdin (written by ``nbtrack.interop.mlflow_export``) and
answers one JSON line per run on stdout: ``{"run_id", "status": "exported" | "already" |
"failed", "mlflow_id", "reason"}``. A run already in the target (tag ``nbtrack.run_id``) is
not written again. This file imports only the standard library and mlflow, so it runs in
any Python that has mlflow (``--mlflow-python``), without nbtrack.
"""

import json
import os
import sys
import traceback

if sys.path and sys.path[0] == __import__("os").path.dirname(__import__("os").path.abspath(__file__)):
    del sys.path[0]  # run as a script from inside nbtrack/interop: its modules must not shadow the real packages

EXPORT_ID_TAG = "nbtrack.run_id"


def _answer(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Writer:
    def __init__(self, target, artifact_location):
        import logging

        logging.getLogger("mlflow").setLevel(logging.ERROR)
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=target)
        self.artifact_location = artifact_location or None
        self.experiments = {}
        self.exported = {}  # nbtrack id -> MLflow id, of runs already in the target

    def experiment_id(self, name):
        if name in self.experiments:
            return self.experiments[name]
        found = self.client.get_experiment_by_name(name)
        if found is None:
            location = None
            if self.artifact_location:
                safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
                location = os.path.join(self.artifact_location, safe)
            experiment_id = self.client.create_experiment(name, artifact_location=location)
        else:
            experiment_id = found.experiment_id
            self._find_exported(experiment_id)
        self.experiments[name] = experiment_id
        return experiment_id

    def _find_exported(self, experiment_id):
        from mlflow.entities import ViewType

        token = None
        while True:
            page = self.client.search_runs([experiment_id], f"tags.`{EXPORT_ID_TAG}` LIKE '%'",
                                           run_view_type=ViewType.ACTIVE_ONLY, max_results=50000, page_token=token)
            for run in page:
                self.exported[run.data.tags[EXPORT_ID_TAG]] = run.info.run_id
            token = page.token
            if not token:
                return

    def write(self, run):
        from mlflow.entities import Metric, Param

        experiment_id = self.experiment_id(run["experiment"])
        if run["run_id"] in self.exported:
            return "already", self.exported[run["run_id"]]
        tags = dict(run["tags"])
        tags[EXPORT_ID_TAG] = run["run_id"]
        parent = run.get("parent")
        if parent and parent in self.exported:
            tags["mlflow.parentRunId"] = self.exported[parent]
        created = self.client.create_run(experiment_id, start_time=run["start_ms"], tags=tags,
                                         run_name=run["name"])
        mlflow_id = created.info.run_id
        try:
            params = [Param(k, v) for k, v in run["params"]]
            for start in range(0, len(params), 100):
                self.client.log_batch(mlflow_id, params=params[start:start + 100])
            metrics = [Metric(k, v, t, s) for k, v, t, s in run["metrics"]]
            for start in range(0, len(metrics), 1000):
                self.client.log_batch(mlflow_id, metrics=metrics[start:start + 1000])
            if run.get("artifact_dir"):
                self.client.log_artifacts(mlflow_id, run["artifact_dir"])
            if run["status"] != "RUNNING":
                self.client.set_terminated(mlflow_id, run["status"], end_time=run["end_ms"])
        except BaseException:
            self.client.delete_run(mlflow_id)  # a half-written run: the next export tries again
            raise
        self.exported[run["run_id"]] = mlflow_id
        return "exported", mlflow_id


def main():
    target = sys.argv[1]
    artifact_location = sys.argv[2] if len(sys.argv) > 2 else ""
    try:
        writer = Writer(target, artifact_location)
        import mlflow

        _answer(status="ready", mlflow_version=mlflow.__version__)
    except Exception as error:  # noqa: BLE001 - the parent reports it
        _answer(status="fatal", reason=f"{type(error).__name__}: {error}")
        return 1
    for line in sys.stdin:
        if not line.strip():
            continue
        run = json.loads(line)
        try:
            status, mlflow_id = writer.write(run)
            _answer(run_id=run["run_id"], status=status, mlflow_id=mlflow_id)
        except Exception as error:  # noqa: BLE001 - one run fails, the others go on
            _answer(run_id=run["run_id"], status="failed", reason=f"{type(error).__name__}: {error}",
                    detail=traceback.format_exc(limit=3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
