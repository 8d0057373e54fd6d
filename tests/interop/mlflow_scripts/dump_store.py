"""Dump what the real MLflow sees in a store, as JSON (run by the tests with MLflow's Python).

    python dump_store.py TRACKING_URI
"""

import hashlib
import json
import math
import sys
import tempfile

import mlflow
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient


def number(value):
    return value if math.isfinite(value) else repr(value)


def artifacts(client, run_id):
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        pending = [None]
        while pending:
            path = pending.pop()
            for info in client.list_artifacts(run_id, path):
                if info.is_dir:
                    pending.append(info.path)
                else:
                    local = client.download_artifacts(run_id, info.path, folder)
                    with open(local, "rb") as handle:
                        out[info.path] = hashlib.sha256(handle.read()).hexdigest()
    return out


def main():
    client = MlflowClient(tracking_uri=sys.argv[1])
    runs = []
    for experiment in client.search_experiments(view_type=ViewType.ACTIVE_ONLY):
        for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ACTIVE_ONLY,
                                      max_results=50000):
            history = {key: sorted([m.step, number(m.value), m.timestamp] for m in
                                   client.get_metric_history(run.info.run_id, key))
                       for key in run.data.metrics}
            runs.append({
                "run_id": run.info.run_id, "experiment": experiment.name, "name": run.info.run_name,
                "status": run.info.status, "start_time": run.info.start_time, "end_time": run.info.end_time,
                "params": run.data.params, "tags": run.data.tags,
                "metrics": {k: number(v) for k, v in run.data.metrics.items()}, "history": history,
                "artifacts": artifacts(client, run.info.run_id),
                "datasets": sorted([d.dataset.name, d.dataset.digest,
                                    {t.key: t.value for t in d.tags}.get("mlflow.data.context")]
                                   for d in run.inputs.dataset_inputs),
            })
    print(json.dumps({"mlflow_version": mlflow.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
