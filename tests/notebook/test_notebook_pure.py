"""Fast unit tests of the pure parts: argument parsing, ast params, hidden state, outputs,
snapshots from files, the summary line."""

from __future__ import annotations

import base64
import json

import pytest
from IPython.core.error import UsageError
from nb_helpers import write_notebook

from nbtrack.notebook.arguments import TrackArgs, parse_nbtrack_line, parse_track_line
from nbtrack.notebook.cellflow import cell_flow
from nbtrack.notebook.cellparams import code_body, collect_params, literal_assignments, param_value
from nbtrack.notebook.hidden_state import Cell, Execution, analyze
from nbtrack.notebook.outputs import CapturedOutput, output_artifacts
from nbtrack.notebook.snapshot import find_cell, locate_notebook, take_snapshot
from nbtrack.notebook.summary import summary_bundle

# --- arguments ---------------------------------------------------------------------

def test_both_spellings_parse_to_the_same_arguments():
    expected = TrackArgs(experiment="churn", name="first try", tags={"team": "ml", "stage": "dev"},
                         params=("lr", "seed"), metrics=("acc", "f1"), artifacts=("*.png", "model/**"),
                         nested=True, outputs=False, quiet=True)
    assert parse_track_line('experiment=churn name="first try" tags=team:ml,stage:dev params=lr,seed '
                            'metrics=acc,f1 artifacts=*.png,model/** --nested --no-outputs --quiet') == expected
    assert parse_track_line('--experiment churn --name "first try" --tags team:ml,stage:dev --params=lr,seed '
                            '--metrics acc,f1 --artifacts *.png,model/** --quiet --no-outputs --nested') == expected


def test_defaults_and_param_modes():
    assert parse_track_line("") == TrackArgs()
    assert parse_track_line("params=none").params == "none"
    assert parse_track_line("params=auto").params == "auto"


@pytest.mark.parametrize("line, message", [
    ("experimnt=x", "unknown option 'experimnt'"),
    ("--experimnt x", "unknown option '--experimnt'"),
    ("churn", "unexpected argument 'churn'"),
    ("nested", "did you mean --nested"),
    ("--quiet=yes", "--quiet takes no value"),
    ("--experiment", "--experiment needs a value"),
    ("experiment=", "experiment= needs a value"),
    ("tags=a", "'a' is not key:value"),
    ("metrics=acc,2x", "'2x' is not a variable name"),
    ("params=", "params= needs at least one name"),
    ("name=a name=b", "name is given twice"),
    ('name="unclosed', "cannot split"),
])
def test_mistakes_are_usage_errors_listing_the_valid_arguments(line, message):
    with pytest.raises(UsageError) as info:
        parse_track_line(line)
    text = str(info.value)
    assert message in text
    assert "experiment=E" in text and "artifacts=glob,..." in text and "--no-outputs" in text


def test_nbtrack_line():
    assert parse_nbtrack_line("") == ("", "")
    assert parse_nbtrack_line("store /tmp/x.db") == ("store", "/tmp/x.db")
    assert parse_nbtrack_line("experiment 'my exp'") == ("experiment", "my exp")
    assert parse_nbtrack_line("runs metrics.acc > 0.5") == ("runs", "metrics.acc > 0.5")
    for bad in ("bogus", "store", "experiment a b"):
        with pytest.raises(UsageError):
            parse_nbtrack_line(bad)


# --- params --------------------------------------------------------------------------

def test_literal_assignments_at_top_level_only():
    source = """%%track experiment=x
lr = 0.1
neg = -3
pos = +2.5
name = 'rf'
flag = True
nothing = None
layers = (64, 32)
grid = [1, [2, 3]]
cfg = {"depth": 3, "opts": {"a": None}}
a = b = 7
x, y = 1, "two"
typed: int = 4
computed = lr * 2
call = dict(a=1)
_private = 1
lr = 0.2
if True:
    inner = 1
def f():
    hidden = 1
for i in range(3):
    loop = i
!echo magic lines are fine
"""
    found = literal_assignments(source)
    assert found == {"neg": -3, "pos": 2.5, "name": "rf", "flag": True, "nothing": None, "layers": (64, 32),
                     "grid": [1, [2, 3]], "cfg": {"depth": 3, "opts": {"a": None}}, "a": 7, "b": 7, "x": 1,
                     "y": "two", "typed": 4, "lr": 0.2}
    assert list(found)[-1] == "lr", "a name assigned again moves to its last position"


def test_non_literals_are_not_params():
    assert literal_assignments("a = [x]\nb = {k: 1}\nc = {1: 2}\nd = f'{x}'\ne = 1j\nf = b'x'\ng = -x") == {}
    assert literal_assignments("this is not python") == {}


def test_code_body_drops_code_running_cell_magics_keeping_line_numbers():
    assert code_body("%%track x=1\n%%time\na = 1") == "\n\na = 1"
    assert code_body("%%bash\necho hi") == "%%bash\necho hi"
    assert code_body("a = 1") == "a = 1"


def test_collect_params_uses_values_after_the_cell():
    namespace = {"lr": 0.5, "layers": (1, 2), "obj": object(), "arr": __import__("numpy").float32(1.5)}
    assert collect_params("auto", "lr = 0.1\nlayers = (1,)\nmissing = 3", namespace) == {
        "lr": 0.5, "layers": (1, 2), "missing": 3}
    explicit = collect_params(("obj", "arr", "undefined"), "", namespace)
    assert explicit["obj"].startswith("<object object at") and explicit["arr"] == 1.5
    assert "undefined" not in explicit
    assert collect_params("none", "lr = 1", namespace) == {}


def test_param_value_reprs_are_short_and_never_raise():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert param_value(Broken()).startswith("<Broken (repr failed")
    assert len(param_value(list(range(5000)))) <= 200
    assert param_value({"a": (1, 2)}) == {"a": (1, 2)}


# --- hidden state --------------------------------------------------------------------

def cells(*sources, ids=True):
    return [Cell(i, "code", s, f"c{i}" if ids else None) for i, s in enumerate(sources)]


def test_cell_flow_reads_names_before_the_cell_binds_them():
    flow = cell_flow("import numpy as np\nfrom x import y\nmodel = fit(X)\nfor i in range(n): pass\n"
                     "def g(a):\n    return a + z\nscore = model.score(X_test)\ncount += 1")
    assert {"np", "y", "model", "i", "g", "score", "count"} <= flow.bound
    assert {"fit", "X", "n", "X_test", "count"} <= set(flow.inputs)
    assert "model" not in flow.inputs and "a" not in flow.inputs
    assert "z" not in flow.inputs, "a function's free names are read when it is called"
    assert flow.bindings["g"].deferred == frozenset({"z"})


def test_clean_linear_execution_reports_nothing():
    nb = cells("a = 1", "b = a + 1", "%%track\nc = b")
    history = [Execution(1, "a = 1", "c0"), Execution(2, "b = a + 1", "c1")]
    report = analyze(nb, history, 2, "%%track\nc = b")
    assert report["matters"] is False and report["warnings"] == []
    assert report["out_of_order"] == report["modified"] == report["never_executed"] == []
    assert report["uses"] == ["b"]


def test_rerun_above_with_stale_dependents_matters():
    nb = cells("a = 10", "b = a + 1", "%%track\nc = b")
    history = [Execution(1, "a = 1", "c0"), Execution(2, "b = a + 1", "c1"), Execution(3, "a = 10", "c0")]
    report = analyze(nb, history, 2, "%%track\nc = b")
    assert [o["id"] for o in report["out_of_order"]] == ["c0"]
    assert report["warnings"] == ["cell 1 ran (In [2]) before cell 0 was re-run (In [3]), with old a"]
    assert [(f["kind"], f["cell"], f["names"]) for f in report["findings"]] == [("stale", 1, ["a"])]


def test_harmless_rerun_is_listed_but_does_not_matter():
    nb = cells("import os", "b = 2", "%%track\nc = b")
    history = [Execution(1, "import os", "c0"), Execution(2, "b = 2", "c1"), Execution(3, "import os", "c0")]
    report = analyze(nb, history, 2, "%%track\nc = b")
    assert [o["id"] for o in report["out_of_order"]] == ["c0"] and report["matters"] is False


def test_modified_never_executed_deleted_and_redefined():
    nb = cells("a = 2", "unused = 1", "needed = 5", "%%track\nprint(a, gone)")
    history = [Execution(1, "a = 1", "c0"), Execution(2, "gone = 3", "deleted-id")]
    report = analyze(nb, history, 3, "%%track\nprint(a, gone)")
    assert [m["id"] for m in report["modified"]] == ["c0"]
    assert [(n["id"], n["defines"]) for n in report["never_executed"]] == [("c1", []), ("c2", [])]
    assert report["deleted"] == [2]
    assert report["warnings"] == ["cell 0 was edited after it ran (In [1]): the kernel's a comes from its old code",
                                  "gone comes from code no longer in the notebook (In [2])"]


def test_redefinition_from_a_cell_below_matters():
    nb = cells("x = 1", "%%track\ny = x", "x = 99")
    history = [Execution(1, "x = 1", "c0"), Execution(2, "x = 99", "c2")]
    report = analyze(nb, history, 1, "%%track\ny = x")
    assert report["warnings"] == ["x comes from cell 2 below this one (In [2])"]
    assert report["findings"][0]["cell_id"] == "c2" and report["matters"]


def test_matching_by_source_without_ids():
    nb = cells("a = 1", "%%track\nb = a", ids=False)
    report = analyze(nb, [Execution(1, "a = 1")], 1, "%%track\nb = a")
    assert report["never_executed"] == [] and report["matters"] is False
    report = analyze(nb, [], 1, "%%track\nb = a")
    assert report["never_executed"][0]["defines"] == ["a"]
    assert report["warnings"] == ["cell 0 above was never run; in notebook order it sets a"]


# --- outputs -------------------------------------------------------------------------

def test_output_artifacts_choose_one_file_per_output():
    png = b"\x89PNG\r\n\x1a\nxxxx"
    outputs = [
        CapturedOutput("display_data", {"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"}),
        CapturedOutput("display_data", {"application/vnd.plotly.v1+json": {"data": []}, "text/html": "<div>"}),
        CapturedOutput("execute_result", {"text/html": "<TABLE><tr><td>1</td></tr></TABLE>", "text/plain": "df"}),
        CapturedOutput("display_data", {"text/html": "<b>not a table</b>"}),
        CapturedOutput("display_data", {"image/svg+xml": "<svg/>"}),
        CapturedOutput("display_data", {"image/png": png}),
    ]
    saved = output_artifacts(outputs)
    assert [name for name, _, _ in saved] == ["outputs/output-1.png", "outputs/output-2.plotly.json",
                                              "outputs/output-3.html", "", "outputs/output-5.svg",
                                              "outputs/output-6.png"]
    assert saved[0][1] == png and saved[5][1] == png
    assert json.loads(saved[1][1]) == {"data": []}
    assert saved[2][2]["text"] == "df" and saved[3][2]["artifact"] is None


# --- snapshots -----------------------------------------------------------------------

def test_locate_notebook_prefers_vscode_then_session_and_skips_missing(tmp_path):
    a = write_notebook(tmp_path / "a.ipynb", [("code", "x", "1")])
    b = write_notebook(tmp_path / "b.ipynb", [("code", "x", "1")])
    assert locate_notebook({"__vsc_ipynb_file__": str(a), "__session__": str(b)}, {"JPY_SESSION_NAME": str(b)}) == (
        str(a), "__vsc_ipynb_file__")
    assert locate_notebook({"__session__": str(b)}, {"JPY_SESSION_NAME": str(tmp_path / "renamed.ipynb")}) == (
        str(b), "__session__")
    assert locate_notebook({}, {"JPY_SESSION_NAME": "Untitled.ipynb"}) == (None, None)


def test_disk_snapshot_finds_the_cell_and_flags_unsaved_code(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb", [("markdown", "m", "# T"), ("code", "k", "%%track\nx = 1")])
    env = {"JPY_SESSION_NAME": str(path)}
    snap = take_snapshot(None, "%%track\nx = 1", {}, None, env)
    assert (snap.source, snap.cell_index, snap.cell_id, snap.stale) == ("disk", 1, "k", False)
    snap.render()
    assert snap.text.startswith("# ---") and "# %% [markdown]\n# # T" in snap.text
    snap = take_snapshot("k", "%%track\nx = 2", {}, None, env)
    assert snap.stale and snap.cell_index == 1
    snap = take_snapshot("other", "%%track\ny = 1", {}, None, env)
    assert snap.stale and snap.cell_index is None and "does not contain" in snap.stale_reason
    assert take_snapshot(None, "x", {}, None, {}).source == "none"


def test_find_cell_by_id_then_source_then_body():
    nb = [Cell(0, "code", "%%track experiment=a\nx = 1", "i0"), Cell(1, "code", "y = 2", "i1")]
    assert find_cell(nb, "i1", "whatever") == (1, True)
    assert find_cell(nb, None, "y = 2") == (1, False)
    assert find_cell(nb, None, "%%track experiment=b\nx = 1") == (0, False)
    assert find_cell(nb, None, "z = 3") == (None, False)


# --- summary -------------------------------------------------------------------------

def test_summary_is_one_line_and_escapes_run_strings():
    bundle = summary_bundle("abcdef0123456789", "<script>alert(1)</script>", "FAILED", 1.234, 2, 1, 0,
                            ["'x' comes from <cell>"])
    assert bundle["text/plain"].splitlines()[0] == (
        "nbtrack: run abcdef01 FAILED · <script>alert(1)</script> · 1.2 s · 2 params, 1 metric, 0 artifacts"
        " · open with %nbtrack dashboard")
    assert "<script>" not in bundle["text/html"] and "&lt;script&gt;" in bundle["text/html"]
    assert "&lt;cell&gt;" in bundle["text/html"]


# --- secrets -------------------------------------------------------------------------

def test_secret_literals_are_redacted_from_sources():
    from nbtrack.secrets import redact as redact_text

    source = ('api_key = "abc123"\nos.environ["GITHUB_TOKEN"] = \'ghp_zzzzzzzzzzzz\'\n'
              'db = connect(url="postgres://me:hunter2@host/db", password="pw")\n'
              'key = "accuracy"\nauthor = "Jane"\nmax_tokens = 256\nif token == "x": pass\n'
              'client = OpenAI(api_key="sk-abcdefghijkl")\nsecret: str = "s"\nprint("sk-0123456789abc")')
    redacted = redact_text(source)
    for secret in ("abc123", "ghp_zzzz", "hunter2", '"pw"', "sk-abcdefghijkl", '"s"', "sk-0123456789abc"):
        assert secret not in redacted
    for kept in ('key = "accuracy"', 'author = "Jane"', "max_tokens = 256", 'if token == "x"',
                 "postgres://<redacted>@host/db"):
        assert kept in redacted


def test_secret_params_are_redacted_but_numbers_are_kept():
    namespace = {}
    params = collect_params("auto", 'api_key = "abc123"\nmax_tokens = 256\nurl = "https://u:p@h/x"\nname = "rf"',
                            namespace)
    assert params == {"api_key": "<redacted>", "max_tokens": 256, "url": "https://<redacted>@h/x", "name": "rf"}
