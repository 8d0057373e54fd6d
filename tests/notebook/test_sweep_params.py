"""-p parsing, the grid, injecting values into notebooks of real shapes, and the metric comparison
rules of rerun (pure functions, no kernel)."""

from __future__ import annotations

import math

import nbformat
import pytest

from nbtrack.runner.compare import Comparison, MetricDifference, close
from nbtrack.runner.params import (
    ParameterError,
    combinations,
    inject,
    parse_grid,
    parse_overrides,
    split_values,
)


def notebook(*cells: tuple[str, str, list[str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, id=cell_id, metadata={"tags": tags} if tags else {})
                for cell_id, source, tags in cells]
    return nb


def test_values_are_literals_else_strings_and_the_grid_is_their_product():
    assert split_values("0.1, [1, 2],'a,b',\"c\\\",d\", rf") == ["0.1", "[1, 2]", "'a,b'", '"c\\",d"', "rf"]
    assert parse_grid(["lr=0.1,1e-3", "model=rf,'gb'", "layers=[64, 32],[8]", "flag=True,None"]) == {
        "lr": [0.1, 0.001], "model": ["rf", "gb"], "layers": [[64, 32], [8]], "flag": [True, None]}
    assert combinations({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert parse_overrides(["seed=4", "name=first try", "nan=nan"]) == {"seed": 4, "name": "first try", "nan": "nan"}
    for bad, message in ((["lr"], "write -p name=value"), (["1x=2"], "not a Python variable name"),
                         (["a=1", "a=2"], "given twice"), (["a="], "needs a value")):
        with pytest.raises(ParameterError, match=message):
            parse_overrides(bad)
    with pytest.raises(ParameterError, match="a value is empty"):
        parse_grid(["lr=0.1,,0.2"])


def test_track_literals_are_replaced_in_place():
    nb = notebook(
        ("setup", "%load_ext nbtrack", []),
        ("train", "%%time\r\n%%track experiment=x\r\nlr = 0.1  # rate\r\nname = 'é'; depth, k = 2, 'x'\r\n"
                  "    \r\nwidth: int = 3\r\nmodel = fit(lr)\r\n", []),
        ("eval", "%%track\na = b = 1\nfor lr in (1, 2):\n    pass\n", []),
        ("plain", "lr = 5", []),  # not a %%track cell: left alone
    )
    injection = inject(nb, {"lr": 0.5, "depth": 7, "name": "ü", "width": 4, "b": [1, 2]})
    assert injection.how == "%%track literals" and injection.cells == [1, 2]
    assert nb.cells[1].source == ("%%time\r\n%%track experiment=x\r\nlr = 0.5  # rate\r\nname = 'ü'; depth, k = 7, 'x'"
                                  "\r\n    \r\nwidth: int = 4\r\nmodel = fit(lr)\r\n")
    assert nb.cells[2].source == "%%track\na = b = [1, 2]\nfor lr in (1, 2):\n    pass\n"
    assert nb.cells[3].source == "lr = 5"
    with pytest.raises(ParameterError, match=r"no parameter zz .*literals: a, b, depth, k, lr, name, width"):
        inject(nb, {"zz": 1})


def test_a_parameters_cell_gets_an_injected_cell_after_it():
    nb = notebook(("p", "lr = 0.1\nepochs = 3", ["parameters"]), ("t", "%%track\nacc = train(lr)", []))
    injection = inject(nb, {"lr": 0.01, "batch": 32}, note="combination 2")
    assert injection.how == "parameters cell" and "does not assign batch: injected anyway" in injection.warnings[0]
    assert [c.id for c in nb.cells] == ["p", "injected-parameters", "t"]
    assert nb.cells[1].source == "# Parameters injected by nbtrack (combination 2)\nlr = 0.01\nbatch = 32"
    assert nb.cells[1].metadata["tags"] == ["injected-parameters"] and nb.cells[0].source == "lr = 0.1\nepochs = 3"
    inject(nb, {"lr": 0.2})  # again (a re-run of a sweep child): the injected cell is replaced, not added
    assert [c.id for c in nb.cells] == ["p", "injected-parameters", "t"] and "lr = 0.2" in nb.cells[1].source
    undone = notebook(("p", "lr = 0.1", ["parameters"]), ("t", "%%track\nlr = 0.3\nacc = train(lr)", []))
    with pytest.raises(ParameterError, match="cell 1 .* assigns lr again after the parameters cell"):
        inject(undone, {"lr": 0.01})
    with pytest.raises(ParameterError, match="cannot be written into the notebook as a Python literal"):
        inject(notebook(("p", "x = 1", ["parameters"])), {"x": object()})


def test_metrics_agree_exactly_by_default_and_within_tolerances():
    assert close(0.81, 0.81, 0, 0) and not close(0.81, 0.8100001, 0, 0)
    assert close(100.0, 100.5, 0.01, 0) and not close(100.0, 102.0, 0.01, 0)
    assert close(0.0, 1e-9, 0, 1e-8) and not close(0.0, 1e-9, 0.5, 0)
    assert close(math.nan, math.nan, 0, 0) and not close(math.nan, 1.0, 1, 1)
    assert close(math.inf, math.inf, 0, 0) and not close(math.inf, 1e308, 1, 1)
    difference = MetricDifference("acc", 0.8123, 0.799)
    assert difference.text() == "acc 0.8123 -> 0.799 (-0.0133, -1.64%)"
    assert MetricDifference("loss", 0.5, 0.25, step=3).text() == "loss at step 3 0.5 -> 0.25 (-0.25, -50.00%)"
    assert MetricDifference("f1", 0.5, None).text() == "f1 0.5 was not logged by the re-run"
    comparison = Comparison("diverged", "a" * 32, None, error="cell 2 raised KeyError: 'x'",
                            causes=["data 'train' changed (...)"])
    assert comparison.headline() == "diverged: the re-run failed: cell 2 raised KeyError: 'x'; likely cause: " \
                                    "data 'train' changed (...)"
    assert Comparison("verified", "a" * 32, "b" * 32, rtol=0.01, metrics_compared=1).headline() == \
        "verified: 1 metric equal (rtol 0.01, atol 0)"
