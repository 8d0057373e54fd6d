"""Shared helpers of the dashboard tests (a module name unique across test folders)."""

from __future__ import annotations

import nbtrack

EVIL = "<img src=x onerror=alert(1)>"
SNAPSHOT = ("# ---\n# jupyter:\n#   kernelspec: {{display_name: Python 3, language: python, name: python3}}\n# ---\n\n"
            "# %%\nimport numpy as np\n\n# %%\n%%track\nfit(lr={lr})\n\n# %%\nprint('done')\n")


def make_runs(n: int = 12, experiment: str = "exp") -> list[str]:
    """``n`` finished runs: lr and model vary, seed does not; acc and val_loss over 3 steps."""
    ids = []
    for i in range(n):
        with nbtrack.track(experiment, name=f"run-{i:02d}",
                           params={"lr": [0.1, 0.01, 0.001][i % 3], "model": ["rf", "lin"][i % 2], "seed": 7},
                           tags={"stage": "dev" if i % 4 else "prod"}) as run:
            for step in range(3):
                nbtrack.log_metrics({"acc": round(0.5 + i / 40 + step / 100, 4),
                                     "val_loss": round(1.0 - i / 20 - step / 100, 4)}, step=step)
            ids.append(run.run_id)
    return ids
