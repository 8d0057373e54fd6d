"""The core imports no notebook code: layers register source-context hooks; scripts are
recorded by the core itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORE = [p for p in (REPO / "nbtrack").rglob("*.py")
        if p.relative_to(REPO / "nbtrack").parts[0] not in ("notebook", "dashboards", "frontend", "runner")
        and p.name not in ("__init__.py", "cli.py", "cli_core.py")]


def test_no_core_module_imports_the_notebook_layer():
    offenders = []
    for path in CORE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    ("notebook", "nbtrack.notebook", "runner", "nbtrack.runner")):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_a_script_run_records_its_source_without_the_notebook_layer(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import sys, nbtrack\n"
                      "with nbtrack.track('s') as run:\n"
                      "    name = run.log_artifact('x', name='a.txt')\n"
                      "assert run.artifact_names == ['source/train.py', 'a.txt'], run.artifact_names\n"
                      "assert 'nbtrack.notebook' not in sys.modules\n"
                      "print(run.run_id)\n")
    env = {"NBTRACK_STORE": f"sqlite:///{tmp_path / 'db.sqlite'}", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    check = subprocess.run([sys.executable, "-c", "import nbtrack, sys; r = nbtrack.get_run(sys.argv[1]); "
                            "print(r.tags['nbtrack.source'], r.document('script')['path'])",
                            done.stdout.strip()], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["script", str(script)]
