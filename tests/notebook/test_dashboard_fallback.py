"""The dashboard in a kernel where anywidget cannot be imported: a static, escaped table with a
note saying why, static figures, and ``board.state`` still drives it."""

from __future__ import annotations

import json

EVIL = "<img src=x onerror=alert(1)>"
BLOCK_ANYWIDGET = """
import sys

class NoAnywidget:
    '''An import hook that makes anywidget uninstalled for this kernel.'''
    def find_spec(self, name, path=None, target=None):
        if name == "anywidget" or name.startswith("anywidget."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None

sys.meta_path.insert(0, NoAnywidget())
for loaded in [m for m in sys.modules if m == "anywidget" or m.startswith("anywidget.")]:
    del sys.modules[loaded]
"""
MAKE_RUNS = f"""
import nbtrack
for i in range(6):
    with nbtrack.track("exp", name={EVIL!r} if i == 2 else f"run-{{i}}", params={{"model": ["rf", "lin"][i % 2]}}):
        nbtrack.log_metrics({{"acc": 0.5 + i / 20}})
"""


def widget_states(reply) -> list[dict]:
    """The state of every widget the cell created or changed (comm_open / comm_msg update)."""
    return [o["data"]["state"] for o in reply.outputs if o["output_type"] == "comm" and "state" in o["data"]]


def test_without_anywidget_the_dashboard_is_a_static_table_with_a_note(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(BLOCK_ANYWIDGET + MAKE_RUNS).status == "ok"
    reply = kernel.execute("board = nbtrack.dashboard('exp')\nboard")
    assert reply.status == "ok", reply.text
    states = widget_states(reply)
    assert states and not [s for s in states if s.get("_model_module") == "anywidget"]  # no table, no FigureWidget
    tables = [s["value"] for s in states if "needs the anywidget package" in str(s.get("value", ""))]
    assert len(tables) == 1
    table = tables[0]
    assert table.count('<tr class="nbtrack-row"') == 6 and "6 runs" in table
    assert EVIL not in table and "&lt;img src=x onerror=alert(1)&gt;" in table
    assert EVIL not in json.dumps(states)  # nowhere as HTML (plot labels are escaped too)
    bundle = reply.mime("text/html")
    assert bundle and "does not run Jupyter widgets" in bundle[0] and EVIL not in bundle[0]

    check = kernel.execute("import sys\nprint(board.interactive, 'anywidget' in sys.modules)")
    assert check.stdout.split() == ["False", "False"]
    # board.state drives the static table: filter, and the HTML is redrawn
    reply = kernel.execute("board.state.filter_text = \"params.model = 'rf'\"\nprint(board.state.total)")
    assert reply.stdout.strip() == "3"
    redrawn = [s["value"] for s in widget_states(reply) if "needs the anywidget package" in str(s.get("value", ""))]
    assert redrawn and redrawn[-1].count('<tr class="nbtrack-row"') == 3 and "filter: params.model" in redrawn[-1]
