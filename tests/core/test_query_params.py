"""runs()/count_runs()/summarize_runs() select by structured parameters: the layers never compose
filter strings (a quote in a notebook path or a tag value is just a value)."""

from __future__ import annotations

import pytest

import nbtrack
from nbtrack.systemtags import NOTEBOOK_TAG


@pytest.fixture
def runs6(store_uri):
    ids = {}
    for name, status, tags in [("a", "FINISHED", {"stage": "dev", NOTEBOOK_TAG: "it's.ipynb"}),
                               ("b", "FAILED", {"stage": "prod", NOTEBOOK_TAG: "it's.ipynb"}),
                               ("c", "KILLED", {"stage": "o'dd", NOTEBOOK_TAG: "/w/other.ipynb"}),
                               ("d", "FINISHED", {})]:
        run = nbtrack.track("p", name=name, tags=tags, params={"i": len(ids)})
        run.log_metric("m", len(ids) / 10)
        with nbtrack.track(nested=True, name=f"{name}-child") as child:
            pass
        ids[f"{name}-child"] = child.run_id
        run.end(status)
        ids[name] = run.run_id
    return ids


def names(**selection) -> set[str]:
    found = set(nbtrack.runs(**selection)["name"])
    assert nbtrack.count_runs(**selection) == len(found)
    assert nbtrack.summarize_runs(**selection).count == len(found)
    return found


def test_each_structured_parameter(runs6):
    assert names(run_ids=[runs6["a"], runs6["c"]]) == {"a", "c"}
    assert names(run_ids=[runs6["a"]] + [f"{i:032x}" for i in range(200)]) == {"a"}  # a long list: one array
    assert names(run_ids=[]) == set()
    assert names(statuses=["failed", "KILLED"]) == {"b", "c"}
    assert names(statuses="RUNNING") == set()
    assert names(tags={"stage": "o'dd"}) == {"c"}
    assert names(tags={"stage": ["dev", "prod"]}) == {"a", "b"}
    assert names(experiment="p", tags={"stage": None}, top_level=True) == {"d"}
    assert names(notebook="it's.ipynb") == {"a", "b"}
    assert names(notebook=["it's.ipynb", "/w/other.ipynb"], statuses=["KILLED"]) == {"c"}
    assert names(top_level=True) == {"a", "b", "c", "d"}
    assert names(experiment="p", filter="params.i >= 1", top_level=True, statuses=["FINISHED"]) == {"d"}


def test_include_deleted_adds_a_deleted_column(runs6):
    nbtrack.delete_run(runs6["b"])
    assert "deleted" not in nbtrack.runs("p").columns
    frame = nbtrack.runs("p", include_deleted=True, top_level=True, order_by="name")
    assert list(frame["name"]) == ["a", "b", "c", "d"]
    assert frame["deleted"].tolist() == [False, True, False, False]
    assert list(frame.columns[:9]) == ["run_id", "experiment", "name", "status", "start_time", "end_time",
                                       "duration", "parent_run_id", "deleted"]
    assert nbtrack.summarize_runs("p", include_deleted=True, top_level=True).count == 4
    assert nbtrack.summarize_runs("p", top_level=True).statuses == {"FINISHED": 2, "KILLED": 1}


@pytest.mark.parametrize("arguments, error", [
    ({"statuses": ["DONE"]}, "unknown status 'DONE'; choose from RUNNING, FINISHED, FAILED, KILLED"),
    ({"run_ids": [1, 2]}, "run_ids must be a string or a list of strings"),
    ({"tags": ["stage"]}, "tags must be a dict"),
    ({"filter": 3}, "filter must be a string"),
])
def test_bad_structured_parameters_say_what_is_expected(runs6, arguments, error):
    with pytest.raises((ValueError, TypeError), match=error):
        nbtrack.runs(**arguments)
