"""Run the console script in a subprocess, as a user would."""

from __future__ import annotations


def run_cli(*argv):
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "nbtrack.cli", *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=120)
