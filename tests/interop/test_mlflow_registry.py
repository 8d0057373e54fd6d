"""MLflow's model-registry calls through nbtrack.mlflow, on nbtrack's registry (a real SQLite store)."""

from __future__ import annotations

import numpy as np
import pytest

import nbtrack
import nbtrack.mlflow as mlflow
from nbtrack.errors import UntrustedModelError


def _fitted(C: float):
    from sklearn.linear_model import LogisticRegression

    features = np.arange(40.0).reshape(20, 2)
    return LogisticRegression(C=C).fit(features, (features[:, 0] > 19).astype(int))


def _logged_run(tmp_path, C: float) -> str:
    import skops.io as sio

    path = tmp_path / "model.skops"
    sio.dump(_fitted(C), path)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(path), artifact_path="model")  # as MLflow code logs a file
    return run.info.run_id


def test_register_alias_and_load_through_mlflow_calls(tmp_path):
    first, second = _logged_run(tmp_path, 0.5), _logged_run(tmp_path, 2.0)
    v1 = mlflow.register_model(f"runs:/{first}/model/model.skops", "churn", tags={"team": "growth"})
    assert (v1.name, v1.version, v1.run_id, v1.source) == ("churn", "1", first, f"runs:/{first}/model/model.skops")
    assert v1.tags == {"team": "growth"} and v1.current_stage == "None" and v1.status == "READY"
    client = mlflow.MlflowClient()
    v2 = client.create_model_version("churn", f"runs:/{second}/model/model.skops", description="tuned")
    assert v2.version == "2" and v2.description == "tuned"

    client.set_registered_model_alias("churn", "champion", "2")
    assert client.get_model_version_by_alias("churn", "champion").run_id == second
    model = client.get_registered_model("churn")
    assert model.aliases == {"champion": "2"} and [v.version for v in model.latest_versions] == ["2"]
    assert mlflow.sklearn.load_model("models:/churn@champion").C == 2.0
    assert mlflow.pyfunc.load_model(f"runs:/{first}/model/model.skops").C == 0.5
    assert nbtrack.get_model("churn").aliases == {"champion": 2}  # the same registry

    client.update_registered_model("churn", description="predicts churn")
    client.update_model_version("churn", "1", description="baseline")
    client.set_registered_model_tag("churn", "owner", "ana")
    client.set_model_version_tag("churn", "1", "stage", "old")
    assert client.get_registered_model("churn").description == "predicts churn"
    assert client.get_model_version("churn", "1").tags == {"team": "growth", "stage": "old"}
    assert [v.version for v in client.search_model_versions("name = 'churn'")] == ["2", "1"]
    assert [v.version for v in client.search_model_versions(f"run_id = '{first}'")] == ["1"]
    assert [m.name for m in client.search_registered_models("name LIKE 'ch%'")] == ["churn"]
    assert [v.version for v in client.get_latest_versions("churn")] == ["2"]

    with pytest.raises(mlflow.MlflowException, match="already exists") as exists:
        client.create_registered_model("churn")
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"
    empty = client.create_registered_model("fraud", tags={"k": "v"}, description="later")
    assert empty.latest_versions == [] and empty.tags == {"k": "v"}

    client.delete_registered_model_alias("churn", "champion")
    client.delete_model_version("churn", "1")
    assert [v.version for v in client.search_model_versions("name = 'churn'")] == ["2"]
    client.delete_registered_model("churn")
    assert [m.name for m in client.search_registered_models()] == ["fraud"]


def test_loading_a_pickle_through_mlflow_needs_trust(tmp_path):
    import pickle

    (tmp_path / "model.pkl").write_bytes(pickle.dumps(_fitted(1.0)))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "model.pkl"))
    mlflow.register_model(f"runs:/{run.info.run_id}/model.pkl", "pickled")
    with pytest.raises(UntrustedModelError, match="trust=True"):
        mlflow.sklearn.load_model("models:/pickled/1")
    assert mlflow.sklearn.load_model("models:/pickled/1", trust=True).C == 1.0
