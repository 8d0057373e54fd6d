"""Make a Trackio project and W&B offline runs with the real packages (run with the trackers' Python).

    python make_trackio_wandb.py FOLDER

Trackio writes under FOLDER/trackio (TRACKIO_DIR), W&B under FOLDER/wandb (offline). Prints
what was logged, for the test to compare.
"""

import json
import os
import sys

import numpy as np


def trackio_project(folder):
    import trackio

    trackio.init(project="demo", name="first", config={"lr": 0.01, "layers": [64, 32], "opt": "adam"})
    for step in range(5):
        trackio.log({"loss": 1.0 / (step + 1), "acc": 0.5 + step / 10})
    trackio.log({"sample": trackio.Image(np.zeros((8, 8, 3), dtype=np.uint8), caption="black")}, step=5)
    trackio.log({"diverged": float("inf")}, step=6)
    trackio.finish()
    trackio.init(project="demo", name="second", config={"lr": 0.1})
    trackio.log({"loss": 2.0})
    trackio.finish()


def wandb_runs(folder):
    import wandb

    run = wandb.init(project="demo", name="finished", mode="offline", config={"lr": 0.01, "layers": [1, 2]},
                     tags=["baseline", "cpu"], notes="first try", group="sweep-1")
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1), "acc": 0.5 + step / 10})
    run.log({"final": 3.0}, step=10)
    run.summary["best"] = 0.9
    run.finish()


def main():
    folder = sys.argv[1]
    os.environ["TRACKIO_DIR"] = os.path.join(folder, "trackio")
    os.environ.update(WANDB_DIR=folder, WANDB_MODE="offline", WANDB_SILENT="true", HF_HUB_OFFLINE="1")
    trackio_project(folder)
    wandb_runs(folder)
    print(json.dumps({"trackio_dir": os.environ["TRACKIO_DIR"], "wandb_dir": os.path.join(folder, "wandb")}))


if __name__ == "__main__":
    main()
