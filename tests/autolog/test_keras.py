"""Keras 3 on the torch backend (KERAS_BACKEND=torch, set in conftest): a tiny model built here."""

from __future__ import annotations

import numpy as np
import pytest
from autolog_helpers import require

import nbtrack

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("float32")


def tiny_model(keras, name="tiny"):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")], name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def test_autologged_fit_logs_params_epoch_metrics_summary_and_model(tmp_path, runs, no_autolog_warnings):
    keras = require("keras")
    assert keras.backend.backend() == "torch"
    nbtrack.autolog()
    model = tiny_model(keras)
    history = model.fit(X, Y, epochs=3, validation_split=0.25, verbose=0)

    [run] = runs()
    assert run.name == "tiny" and run.tags["nbtrack.autolog"] == "keras" and run.status == "FINISHED"
    assert run.params["epochs"] == 3 and run.params["batch_size"] == 32 and run.params["validation_split"] == 0.25
    assert run.params["optimizer_name"] == "Adam" and run.params["opt_learning_rate"] == pytest.approx(0.01)
    assert run.params["opt_beta_1"] == pytest.approx(0.9)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        points = run.metric_history(key)
        assert list(points["step"]) == [0, 1, 2]
        assert list(points["value"]) == pytest.approx(history.history[key])
    summary = run.artifact("model_summary.txt").read_text()
    assert 'Model: "tiny"' in summary and "Total params: 59" in summary
    path = tmp_path / "tiny.keras"
    path.write_bytes(run.artifact("models/tiny.keras").read_bytes())
    reloaded = keras.models.load_model(path)
    assert np.allclose(reloaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_the_callback_by_hand_logs_into_the_active_run_and_a_failing_fit_fails_its_own_run(runs):
    keras = require("keras")
    from nbtrack.autolog import NbtrackKerasCallback

    model = tiny_model(keras)
    with nbtrack.track(name="cell") as run:
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[NbtrackKerasCallback(log_models=False)])
        assert run.status == "RUNNING"
    nbtrack.autolog()
    with pytest.raises(ValueError):
        model.fit(X, Y[:10], epochs=1, verbose=0)  # x and y of different lengths: Keras' own error

    cell, failed = runs()
    assert cell.run_id == run.run_id and cell.params["epochs"] == 2 and len(cell.metric_history("loss")) == 2
    assert [a.name for a in cell.artifacts if a.name.startswith("models/")] == []
    assert failed.status == "FAILED" and failed.params["epochs"] == 1
