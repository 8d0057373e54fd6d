"""``%load_ext nbtrack`` starts filling the package caches in the background, fork-safely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = """
import os
from IPython.testing.globalipapp import start_ipython
from nbtrack import environment, run
ip = start_ipython()
ip.run_line_magic("load_ext", "nbtrack")
threads = [t for t in run._capturing if t.name == "nbtrack-prewarm"]
assert threads, "no prewarm thread registered for fork safety"
pid = os.fork()  # _before_fork waits for the prewarm thread
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
assert not threads[0].is_alive()
assert environment._scan_cache is not None
assert environment.imported_packages_ready()
ip.run_cell_magic("track", "", "x = 1")
import nbtrack
record = nbtrack.runs()
rid = record["run_id"][0]
assert nbtrack.get_run(rid).document("imported_packages")
print("ok")
"""


def test_load_ext_prewarms_the_capture(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env.update(PYTHONPATH=str(REPO), NBTRACK_STORE=str(tmp_path / "s.db"))
    result = subprocess.run([sys.executable, "-c", CODE], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
