""""Why do these runs differ?" on real runs where the cause is known: only a param, only the
data file, only an imported package's version changed (cells: tests/notebook/test_explain_kernel.py).
Also the compare panel: 2 to 10 runs, differences only, diffs from the older run to the newer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from dashboard_helpers import EVIL

import nbtrack
from nbtrack.dashboards.compareview import CompareView
from nbtrack.dashboards.explain import explain, explain_html
from nbtrack.dashboards.state import DashboardState

REPO = Path(__file__).resolve().parents[2]


def fit(lr: float, data: str | None = None, name: str = "run") -> str:
    with nbtrack.track("why", name=name, params={"lr": lr, "epochs": 3}) as run:
        if data is not None:
            nbtrack.log_dataset(data, "train")
        nbtrack.log_metric("acc", 0.5 + lr)
        nbtrack.log_metric("val_loss", 1 - lr)
    return run.run_id


def test_only_a_param_changed(store):
    older, newer = fit(0.1), fit(0.2)
    why = explain(newer, older)  # the order given does not matter: older -> newer
    assert why.older.run_id == older and why.newer.run_id == newer
    assert [(c.kind, c.what, c.before, c.after) for c in why.changes] == [("param", "lr", "0.1", "0.2")]
    acc = next(m for m in why.metrics if m.key == "acc")
    assert round(acc.delta, 6) == 0.1 and acc.verdict == "better"
    assert next(m for m in why.metrics if m.key == "val_loss").verdict == "better"  # lower loss
    assert "most likely param lr: 0.1 → 0.2" in why.summary()


def test_only_the_data_file_changed(store, tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    older = fit(0.1, str(data))
    data.write_text("x,y\n1,2\n3,5\n")
    newer = fit(0.1, str(data))
    why = explain(older, newer)
    assert [(c.kind, c.what) for c in why.changes] == [("dataset", "train")]
    assert why.changes[0].before != why.changes[0].after


def test_nothing_recorded_differs(store):
    why = explain(fit(0.1), fit(0.1))
    assert why.changes == [] and "no recorded difference" in why.summary()
    assert "same params, code, data, packages and git state" in explain_html(why)


def _script_run(tmp_path: Path, version: str) -> str:
    """A script run importing a package whose installed version is ``version``."""
    site = tmp_path / "site"
    for old in site.glob("fakepkg-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    info = site / f"fakepkg-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fakepkg\nVersion: {version}\n")
    (info / "top_level.txt").write_text("fakepkg\n")
    (site / "fakepkg.py").write_text("VALUE = 1\n")
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import nbtrack, fakepkg
        with nbtrack.track("why", name="script", params={"lr": 0.1}) as run:
            nbtrack.log_metric("acc", 0.5)
        print(run.run_id)
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), str(site)]), NBTRACK_STORE=f"sqlite:///{tmp_path / 'nbtrack.db'}")
    result = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_only_an_imported_package_version_changed(store, tmp_path):
    older, newer = _script_run(tmp_path, "1.0"), _script_run(tmp_path, "2.0")
    why = explain(older, newer)
    top = why.top
    assert (top.kind, top.what, top.before, top.after) == ("imported package", "fakepkg", "1.0", "2.0")
    assert all(c.kind != "param" for c in why.changes)


def test_compare_panel_orders_runs_and_shows_differences_only(store):
    ids = [fit(0.1 * i, name=EVIL if i == 5 else f"r{i}") for i in range(1, 13)]
    state = DashboardState("why")
    state.selected = list(reversed(ids))  # newest first: the panel puts them oldest first
    view = CompareView(state)
    assert len(view.records) == 10 and "first 10 of 12" in view.note.value
    assert [r.run_id for r in view.records] == sorted(ids[2:], key=ids.index)
    assert 'data-key="params.epochs"' in view.table.value  # same in every run: shown...
    view.differences_only.value = True
    assert 'data-key="params.epochs"' not in view.table.value and 'data-key="params.lr"' in view.table.value
    assert "Why do these runs differ?" in view.explanation.value
    older, newer = view.pair()
    assert older.start_time <= newer.start_time
    view.run_a.value, view.run_b.value = newer.run_id, older.run_id  # chosen the other way round
    assert view.pair() == (older, newer)
    assert "<img src=x" not in view.explanation.value + view.table.value


def test_upstream_cells_follow_names_through_functions_loops_and_magics():
    from nbtrack.dashboards.explain import upstream_cells
    from nbtrack.notebook.hidden_state import Cell

    sources = ["%load_ext nbtrack\nimport numpy as np",  # 0: np, read by the function in cell 3
               "scale = 3\r\n",  # 1: read only when cell 3's function is called
               "unused = 1",  # 2
               "def make(n):\n    return np.arange(n) * scale\n\n   \n",  # 3
               "total = 0\nfor step in range(4):\n    total = total + step",  # 4: loop rebinding
               "total = 99",  # 5: rebinds total, so cell 4 no longer reaches the tracked cell
               "%%track experiment=x\ndata = make(total)"]
    cells = [Cell(index, "code", source) for index, source in enumerate(sources)]
    assert upstream_cells(cells, 6) == {0, 1, 3, 5}
    cells[5] = Cell(5, "markdown", "total = 99")
    assert upstream_cells(cells, 6) == {0, 1, 3, 4}
