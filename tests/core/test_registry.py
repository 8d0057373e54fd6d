"""The model registry on real SQLite and PostgreSQL stores, with real skops files and pickles."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from registry_helpers import Exploit, forest, logistic, training_data

import nbtrack
from nbtrack.errors import ArtifactNotFoundError, ModelNotFoundError, UntrustedModelError


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NBTRACK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _trained_run(seed: int = 0, experiment: str = "churn") -> nbtrack.Run:
    with nbtrack.track(experiment, params={"seed": seed}) as run:
        nbtrack.log_artifact(logistic(seed), "model.skops")
    return run


def test_versions_aliases_tags_and_descriptions(store_uri):
    first, second = _trained_run(0), _trained_run(1)
    v1 = nbtrack.register_model(first, "model.skops", "churn", alias="champion", tags={"team": "growth", "n": 3},
                                description="baseline")
    v2 = nbtrack.register_model(nbtrack.get_run(second.run_id), "model.skops", "churn", alias=["staging"])
    v3 = nbtrack.register_model(second.run_id[:8], "model.skops", "churn")
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    assert v1.tags == {"team": "growth", "n": "3"} and v1.description == "baseline" and v1.aliases == ("champion",)
    assert v1.uri == "models:/churn/1" and v2.run_id == second.run_id and v1.kind == "skops"

    nbtrack.set_model_alias("churn", "champion", 2)  # an alias moves ...
    model = nbtrack.get_model("churn")
    assert model.aliases == {"champion": 2, "staging": 2}
    assert model.version("champion").version == 2 and model.latest.version == 3
    assert nbtrack.get_model_version("models:/churn@champion").version == 2
    assert nbtrack.get_model_version("churn", "staging").version == 2
    assert nbtrack.get_model_version("models:/churn/latest").version == 3
    assert nbtrack.get_model_version("churn", 1).sha256 == v1.sha256  # ... a version does not
    assert nbtrack.get_model_version("churn", "v1").version == nbtrack.get_model_version("models:/churn/v1").version

    nbtrack.set_model_description("churn", "predicts churn")
    nbtrack.set_model_description("churn", "tuned C", version=3)
    nbtrack.set_model_tags("churn", {"owner": "ana"})
    nbtrack.set_model_tags("churn", {"stage": "candidate"}, version=3)
    nbtrack.delete_model_tag("churn", "team", version=1)
    model = nbtrack.get_model("churn")
    assert model.description == "predicts churn" and model.tags == {"owner": "ana"}
    assert model.version(3).description == "tuned C" and model.version(3).tags == {"stage": "candidate"}
    assert model.version(1).tags == {"n": "3"}

    frame = nbtrack.models()
    assert frame.to_dict("records")[0] | {"created_time": None, "updated_time": None} == {
        "name": "churn", "versions": 3, "latest_version": 3, "aliases": {"champion": 2, "staging": 2},
        "description": "predicts churn", "created_time": None, "updated_time": None}

    assert nbtrack.delete_model("churn", 2) == [2]  # its aliases go with it
    assert nbtrack.get_model("churn").aliases == {}
    assert nbtrack.register_model(first, "model.skops", "churn", alias="champion").version == 4  # never reused
    nbtrack.delete_model_alias("churn", "champion")
    assert nbtrack.get_model("churn").aliases == {}
    assert nbtrack.delete_model("churn") == [1, 3, 4]
    assert nbtrack.models().empty
    with pytest.raises(ModelNotFoundError, match="no registered model named 'churn'"):
        nbtrack.get_model("churn")


def test_a_version_pins_the_content_the_run_had_when_registered(store_uri):
    with nbtrack.track("churn") as run:
        nbtrack.log_artifact(logistic(0), "model.skops")
        nbtrack.register_model(run, "model.skops", "churn")  # an active run is flushed first
        nbtrack.log_artifact(logistic(3), "model.skops")  # the run replaces the artifact
        nbtrack.register_model(run, "model.skops", "churn")
    assert nbtrack.load_model("models:/churn/1").C == 0.5
    assert nbtrack.load_model("models:/churn/2").C == 3.5
    assert nbtrack.load_model(run.run_id, "model.skops").C == 3.5


def test_load_by_uri_alias_latest_and_run_artifact(store_uri):
    run = _trained_run(0)
    nbtrack.register_model(run, "model.skops", "churn", alias="champion")
    features, _ = training_data(5)
    expected = logistic(0).predict_proba(features)
    for model in (nbtrack.load_model("models:/churn@champion"), nbtrack.load_model("models:/churn/1"),
                  nbtrack.load_model("models:/churn/latest"), nbtrack.load_model(run.run_id[:6], "model.skops"),
                  nbtrack.load_model(run, "model.skops"), nbtrack.get_model("churn").latest.load()):
        np.testing.assert_allclose(model.predict_proba(features), expected)


def test_skops_types_are_checked_and_trusted_only_by_name(isolated):
    with nbtrack.track("churn") as run:
        nbtrack.log_artifact(forest(0), "forest.skops")
    nbtrack.register_model(run, "forest.skops", "forest")
    with pytest.raises(UntrustedModelError) as refused:
        nbtrack.load_model("models:/forest/1")
    assert refused.value.kind == "skops" and refused.value.types == ["sklearn.tree._tree.Tree"]
    message = str(refused.value)
    assert "sklearn.tree._tree.Tree" in message
    assert "nbtrack.load_model('models:/forest/1', trust=['sklearn.tree._tree.Tree'])" in message
    with pytest.raises(UntrustedModelError, match="not trust=True"):
        nbtrack.load_model("models:/forest/1", trust=True)
    loaded = nbtrack.load_model("models:/forest/1", trust=["sklearn.tree._tree.Tree"])
    features, _ = training_data(5)
    np.testing.assert_array_equal(loaded.predict(features), forest(0).predict(features))
    assert nbtrack.get_model("forest").latest.required_trust() == ["sklearn.tree._tree.Tree"]


def test_a_pickle_loads_only_when_trusted_and_never_runs_code_before(isolated, tmp_path):
    marker = tmp_path / "pwned"
    with nbtrack.track("churn") as run:
        nbtrack.log_artifact(logistic(0), "model.pkl")
        nbtrack.log_artifact(pickle.dumps(Exploit(str(marker))), "exploit.pkl")
    nbtrack.register_model(run, "model.pkl", "pickled")
    with pytest.raises(UntrustedModelError) as refused:
        nbtrack.load_model("models:/pickled/1")
    message = str(refused.value)
    assert "runs whatever code the file names" in message and "trust=True" in message
    assert "sklearn.linear_model._logistic.LogisticRegression" in refused.value.types
    assert nbtrack.load_model("models:/pickled/1", trust=True).C == 0.5
    assert nbtrack.load_model("models:/pickled/1", trust=refused.value.types).C == 0.5  # an allow-list

    with pytest.raises(UntrustedModelError) as exploit:
        nbtrack.load_model(run.run_id, "exploit.pkl")
    assert exploit.value.types == ["posix.system"] and not marker.exists()
    with pytest.raises(UntrustedModelError, match="imports posix.system, which is not in trust"):
        nbtrack.load_model(run.run_id, "exploit.pkl", trust=["sklearn.linear_model._logistic.LogisticRegression"])
    assert not marker.exists()
    with pytest.raises(TypeError, match="trust is True, False or a list"):
        nbtrack.load_model(run.run_id, "model.pkl", trust="yes")


def test_a_joblib_file_is_a_pickle_too(isolated, tmp_path):
    import joblib

    joblib.dump(logistic(0), tmp_path / "model.joblib")
    with nbtrack.track("churn") as run:
        nbtrack.log_artifact(tmp_path / "model.joblib")
    with pytest.raises(UntrustedModelError, match="is a joblib file"):
        nbtrack.load_model(run.run_id, "model.joblib")
    assert nbtrack.load_model(run.run_id, "model.joblib", trust=True).C == 0.5


def test_directories_and_other_files_come_back_as_paths(store_uri, tmp_path):
    model_dir = tmp_path / "hf-model"
    (model_dir / "tokenizer").mkdir(parents=True)
    (model_dir / "config.json").write_text('{"layers": 2}')
    (model_dir / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    (tmp_path / "model.onnx").write_bytes(b"\x08\x01onnx")
    with nbtrack.track("nlp") as run:
        nbtrack.log_artifact(model_dir)
        nbtrack.log_artifact(tmp_path / "model.onnx")
    nbtrack.register_model(run, "hf-model", "bert")
    nbtrack.register_model(run, "model.onnx", "onnx")
    version = nbtrack.get_model("bert").latest
    assert version.kind == "directory" and version.size == len('{"layers": 2}') + 4
    path = nbtrack.load_model("models:/bert/1")
    assert path.name == "hf-model" and (path / "tokenizer" / "vocab.txt").read_text() == "a\nb\n"
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == [
        "config.json", "tokenizer/vocab.txt"]
    assert nbtrack.load_model("models:/bert/1") == path  # the cached copy is reused
    copied = nbtrack.load_model("models:/bert/1", dest=tmp_path / "out")
    assert copied == tmp_path / "out" / "hf-model" and (copied / "config.json").exists()
    onnx = nbtrack.load_model("models:/onnx/1")
    assert onnx.name == "model.onnx" and onnx.read_bytes() == b"\x08\x01onnx"


def test_clear_errors_for_names_aliases_uris_and_missing_things(isolated):
    run = _trained_run(0)
    nbtrack.register_model(run, "model.skops", "churn", alias="champion")
    with pytest.raises(ArtifactNotFoundError, match=r"no artifact 'modle.skops' \(it has: model.skops"):
        nbtrack.register_model(run, "modle.skops", "churn")
    for bad, why in (("a/b", "holds '/'"), ("a@b", "holds '@'"), ("", "non-empty"), (" x", "leading")):
        with pytest.raises(ValueError, match=why):
            nbtrack.register_model(run, "model.skops", bad)
    for alias in ("latest", "v2", "2", "with space"):
        with pytest.raises(ValueError, match="alias"):
            nbtrack.set_model_alias("churn", alias, 1)
    with pytest.raises(ModelNotFoundError, match="model 'churn' has no version 7: its versions: 1"):
        nbtrack.set_model_alias("churn", "staging", 7)
    with pytest.raises(ModelNotFoundError, match="has no alias 'staging': its aliases: champion"):
        nbtrack.load_model("models:/churn@staging")
    with pytest.raises(ModelNotFoundError, match="no registered model named 'churm': registered: churn"):
        nbtrack.load_model("models:/churm/1")
    for uri in ("models:/churn", "models:/churn/zero", "models:/churn/0", "model:/churn/1"):
        with pytest.raises(ValueError, match="models:/NAME/VERSION"):
            nbtrack.load_model(uri)
    with pytest.raises(ValueError, match="not a models:/ URI"):
        nbtrack.load_model(run.run_id)
    assert nbtrack.get_model("churn").aliases == {"champion": 1}  # nothing half-done


def test_gc_keeps_what_the_registry_references(store_uri):
    run = _trained_run(0)
    version = nbtrack.register_model(run, "model.skops", "churn")
    nbtrack.delete_run(run.run_id)
    store = nbtrack.get_store()
    assert store.collect_garbage(grace_seconds=0)["runs_purged"] == 1
    assert nbtrack.load_model("models:/churn/1").C == 0.5  # the version outlives its run
    nbtrack.delete_model("churn")
    assert store.collect_garbage(grace_seconds=0)["blobs_removed"] >= 1
    assert not store.blobs.exists(version.sha256)


def test_lineage_links_models_runs_and_parents(store_uri):
    with nbtrack.track("churn") as producer:
        nbtrack.log_artifact(logistic(0), "model.skops")
        with nbtrack.track(nested=True) as child:
            pass
    nbtrack.register_model(producer, "model.skops", "churn", alias="champion")
    with nbtrack.track("scoring") as consumer:
        nbtrack.load_model("models:/churn@champion")
    produced = nbtrack.get_run(producer.run_id).lineage
    assert [v.label for v in produced.models_produced] == ["churn v1 @champion"]
    assert produced.children == (child.run_id,) and produced.used_by == (consumer.run_id,)
    used = nbtrack.get_run(consumer.run_id).lineage
    assert [(m.name, m.version, m.run_id) for m in used.models_used] == [("churn", 1, producer.run_id)]
    assert used.upstream == [producer.run_id]
    assert nbtrack.get_run(child.run_id).lineage.parents == (producer.run_id,)
    assert "produced churn v1 @champion" in str(produced)


def test_a_crafted_manifest_cannot_write_outside_its_directory(isolated, tmp_path):
    import json

    from nbtrack.errors import ArtifactNameError
    from nbtrack.registry.files import materialize_tree

    blobs = nbtrack.get_store().blobs
    content, _ = blobs.put_bytes(b"owned")
    for name in ("../escaped.txt", "/tmp/escaped.txt", "a/../../escaped.txt"):
        manifest, _ = blobs.put_bytes(json.dumps({name: [content, 5]}).encode())
        with pytest.raises(ArtifactNameError):
            materialize_tree(blobs, manifest, "model", dest=tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out" / "model").exists()
