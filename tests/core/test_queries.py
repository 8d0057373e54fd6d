"""Reading runs back, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import create_engine, inspect

import nbtrack
from nbtrack.errors import AmbiguousRunIdError, ExperimentNotFoundError, FilterSyntaxError, RunNotFoundError

RUNS = [
    # name, model, C, acc, val loss, stage, status
    ("a", "rf", 0.1, 0.70, 0.9, "dev", "FINISHED"),
    ("b", "rf", 1.0, 0.85, 0.5, "prod", "FINISHED"),
    ("c", "logreg", 0.5, 0.80, 0.6, "dev", "FAILED"),
    ("d", "logreg", 2.0, 0.95, 0.3, "prod", "FINISHED"),
    ("e", "Rf-big", 5.0, float("nan"), 1.2, "test", "KILLED"),
]


@pytest.fixture
def populated(store_uri):
    ids = {}
    for name, model, c, acc, loss, stage, status in RUNS:
        run = nbtrack.track("exp", name=name, params={"model": model, "C": c, "deep": name == "d"},
                            tags={"stage": stage})
        run.log_metric("acc", acc)
        run.log_metric("val loss", loss)
        run.end(status)
        ids[name] = run.run_id
    with nbtrack.track("other", name="z", tags={"stage": "dev"}) as run:
        nbtrack.log_metric("acc", 0.5)
    ids["z"] = run.run_id
    return ids


def names(frame):
    return list(frame["name"])


@pytest.mark.parametrize("text, expected", [
    ("metrics.acc > 0.8", {"b", "d"}),
    ("metrics.acc >= 0.8 and params.model = 'rf'", {"b"}),
    ("params.model = 'rf' and tags.stage != 'dev'", {"b"}),
    ("attributes.status = 'FINISHED'", {"a", "b", "d"}),
    ("status != 'finished'", {"c", "e"}),
    ("run_name = 'c'", {"c"}),
    ("params.model LIKE 'r%'", {"a", "b"}),
    ("params.model ILIKE 'r%'", {"a", "b", "e"}),
    ("params.model NOT LIKE 'r%'", {"c", "d", "e"}),
    ("params.model IN ('rf', 'logreg')", {"a", "b", "c", "d"}),
    ("tags.stage NOT IN ('dev')", {"b", "d", "e"}),
    ("params.C > 0.7", {"b", "d", "e"}),
    ("params.C = 0.5", {"c"}),
    ("params.C = '0.5'", {"c"}),
    ("params.C IN (0.1, 2)", {"a", "d"}),
    ("params.deep = true", {"d"}),
    ("metrics.`val loss` < 0.55", {"b", "d"}),
    ('metrics."val loss" < 0.55', {"b", "d"}),
    ("metrics.acc IS NULL", set()),
    ("metrics.missing IS NULL", {"a", "b", "c", "d", "e"}),
    ("tags.stage IS NOT NULL", {"a", "b", "c", "d", "e"}),
    ("metrics.acc > 0.9 or tags.stage = 'test'", {"d", "e"}),
    ("not (params.model = 'rf' or params.model = 'logreg')", {"e"}),
    ("(metrics.acc < 0.75 or metrics.acc > 0.9) and not tags.stage = 'prod'", {"a"}),
    ("duration >= 0", {"a", "b", "c", "d", "e"}),
    ("start_time > '2000-01-01'", {"a", "b", "c", "d", "e"}),
    ("params.model = 'x'' OR 1=1 --'", set()),
])
def test_filters(populated, text, expected):
    assert set(names(nbtrack.runs("exp", filter=text))) == expected
    assert nbtrack.count_runs("exp", filter=text) == len(expected)


def test_frame_shape_like_mlflow(populated):
    frame = nbtrack.runs("exp", order_by="metrics.acc DESC")
    assert list(frame.columns[:8]) == ["run_id", "experiment", "name", "status", "start_time", "end_time",
                                       "duration", "parent_run_id"]
    assert {"params.model", "params.C", "params.deep", "metrics.acc", "metrics.val loss", "tags.stage"} <= set(frame.columns)
    assert names(frame) == ["d", "b", "c", "a", "e"]  # NaN sorts last
    assert str(frame["start_time"].dtype).startswith("datetime64")
    assert frame["params.C"].tolist() == [2.0, 1.0, 0.5, 0.1, 5.0]
    assert frame["params.deep"].tolist() == [True, False, False, False, False]


def test_order_limit_offset(populated):
    assert names(nbtrack.runs("exp", order_by=["params.C DESC"], max_results=2)) == ["e", "d"]
    assert names(nbtrack.runs("exp", order_by="params.C", max_results=2, offset=2)) == ["b", "d"]
    assert names(nbtrack.runs("exp", order_by="metrics.`val loss` ASC, name")) == ["d", "b", "c", "a", "e"]
    assert names(nbtrack.runs("exp", order_by="tags.stage DESC, name DESC")) == ["e", "d", "b", "c", "a"]


def test_experiment_selection_and_listing(populated):
    assert set(names(nbtrack.runs())) == {"a", "b", "c", "d", "e", "z"}
    assert set(names(nbtrack.runs(["exp", "other"], filter="tags.stage = 'dev'"))) == {"a", "c", "z"}
    listing = nbtrack.experiments().set_index("experiment")
    assert listing.loc["exp", "runs"] == 5 and listing.loc["other", "runs"] == 1


def test_summary(populated):
    summary = nbtrack.summarize_runs("exp")
    assert summary.count == 5
    assert summary.statuses == {"FINISHED": 3, "FAILED": 1, "KILLED": 1}
    assert summary.params["model"] == 3 and summary.params["C"] == 5
    assert summary.metrics["acc"] == (0.7, 0.95)
    assert summary.tags == {"stage": 3, "nbtrack.source": 1}


def test_metric_histories(populated):
    histories = nbtrack.metric_histories([populated["a"], populated["b"]], "acc")
    assert sorted(histories["value"]) == [0.7, 0.85]


def test_bad_filter_shows_position(populated):
    with pytest.raises(FilterSyntaxError) as caught:
        nbtrack.runs("exp", filter="metrics.acc > 0.8 and params.model = ")
    assert caught.value.position == 37
    assert "^" in str(caught.value)
    with pytest.raises(FilterSyntaxError, match="compared with numbers"):
        nbtrack.runs("exp", filter="metrics.acc > 'high'")
    with pytest.raises(FilterSyntaxError, match="unknown attribute"):
        nbtrack.runs("exp", order_by="colour DESC")


def test_run_id_prefixes(populated):
    full = populated["a"]
    assert nbtrack.get_run(full[:10]).run_id == full
    with pytest.raises(RunNotFoundError):
        nbtrack.get_run("zzzz")
    with pytest.raises(RunNotFoundError):
        nbtrack.get_run("%")  # LIKE wildcards are not prefixes
    prefixes = {}
    for run_id in populated.values():
        prefixes.setdefault(run_id[0], []).append(run_id)
    shared = next((ids for ids in prefixes.values() if len(ids) > 1), None)
    if shared:
        with pytest.raises(AmbiguousRunIdError):
            nbtrack.get_run(shared[0][0])


def test_edits_delete_restore_rename(populated):
    run_id = populated["a"]
    nbtrack.rename_run(run_id, "renamed")
    nbtrack.tag_run(run_id, {"reviewed": "yes"})
    nbtrack.note_run(run_id, "looked fine")
    record = nbtrack.get_run(run_id)
    assert (record.name, record.tags["reviewed"], record.notes) == ("renamed", "yes", "looked fine\n")
    nbtrack.delete_run(run_id)
    assert run_id not in set(nbtrack.runs("exp")["run_id"])
    assert run_id in set(nbtrack.runs("exp", include_deleted=True)["run_id"])
    nbtrack.restore_run(run_id)
    assert run_id in set(nbtrack.runs("exp")["run_id"])
    nbtrack.rename_experiment("exp", "exp2")
    assert len(nbtrack.runs("exp2")) == 5 and nbtrack.runs("exp").empty
    with pytest.raises(ExperimentNotFoundError):
        nbtrack.rename_experiment("nope", "x")
    with pytest.raises(ValueError, match="already exists"):
        nbtrack.rename_experiment("exp2", "other")


def test_injection_attempts_are_plain_values(populated, store_uri):
    evil = "x'); DROP TABLE runs; --"
    with nbtrack.track("exp", name=evil, params={"model": evil}) as run:
        pass
    frame = nbtrack.runs("exp", filter=f"run_name = '{evil.replace(chr(39), chr(39) * 2)}'")
    assert names(frame) == [evil]
    assert nbtrack.get_run(run.run_id).params["model"] == evil
    engine = create_engine(nbtrack.get_store().uri)
    assert "runs" in inspect(engine).get_table_names()
    engine.dispose()


def test_nan_param_and_metric_filters(store_uri):
    with nbtrack.track("nan", params={"x": float("nan")}) as run:
        nbtrack.log_metric("m", float("nan"))
    record = nbtrack.get_run(run.run_id)
    assert math.isnan(record.params["x"]) and math.isnan(record.metrics["m"])
    assert nbtrack.runs("nan", filter="metrics.m > 0").empty
    assert len(nbtrack.runs("nan", filter="metrics.m IS NOT NULL")) == 1
