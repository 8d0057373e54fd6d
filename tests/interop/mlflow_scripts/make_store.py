"""Fill an MLflow store with runs of every shape the importer must carry (run with MLflow's Python).

    python make_store.py TRACKING_URI

Two experiments; nested runs; several values at one step; NaN and infinities; params, tags and
a description; artifacts in folders; a dataset input; a FAILED run, a deleted run, a run left
RUNNING. Prints {"ids": {name: run id}}.
"""

import json
import os
import sys
import tempfile

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient


def main():
    mlflow.set_tracking_uri(sys.argv[1])
    ids = {}
    mlflow.set_experiment("alpha")
    with mlflow.start_run(run_name="parent", description="the **baseline**") as parent:
        ids["parent"] = parent.info.run_id
        mlflow.log_params({"lr": 0.01, "layers": [64, 32], "optimizer": "adam", "flag": True})
        mlflow.set_tags({"stage": "dev", "team": "ml"})
        for epoch in range(30):
            mlflow.log_metric("train_loss", 1.0 / (epoch + 1), step=epoch)
        for value in (0.5, 0.25, 0.125):  # no step: MLflow logs them all at step 0
            mlflow.log_metric("noisy", value)
        mlflow.log_metric("nan_metric", float("nan"))
        mlflow.log_metric("pos_inf", float("inf"), step=1)
        mlflow.log_metric("neg_inf", float("-inf"), step=2)
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config/settings.yaml")
        mlflow.log_text("hello MLflow", "notes.txt")
        with tempfile.TemporaryDirectory() as folder:
            os.makedirs(os.path.join(folder, "deep", "er"))
            with open(os.path.join(folder, "deep", "er", "data.bin"), "wb") as handle:
                handle.write(bytes(range(256)))
            mlflow.log_artifacts(folder, artifact_path="blobs")
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="toy", targets="y"), context="training")
        for index in range(2):
            with mlflow.start_run(run_name=f"child-{index}", nested=True) as child:
                ids[f"child-{index}"] = child.info.run_id
                mlflow.log_param("index", index)
                mlflow.log_metric("score", 0.5 + index / 10)
    mlflow.set_experiment("beta")
    try:
        with mlflow.start_run(run_name="broken") as broken:
            ids["broken"] = broken.info.run_id
            mlflow.log_param("will", "fail")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with mlflow.start_run(run_name="gone") as gone:
        ids["gone"] = gone.info.run_id
    MlflowClient().delete_run(ids["gone"])
    experiment = mlflow.get_experiment_by_name("beta")
    running = MlflowClient().create_run(experiment.experiment_id, run_name="still-running")
    ids["still-running"] = running.info.run_id
    print(json.dumps({"ids": ids}))


if __name__ == "__main__":
    main()
