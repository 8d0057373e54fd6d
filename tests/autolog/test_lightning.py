"""PyTorch Lightning: a tiny LightningModule built here, the Trainer on CPU."""

from __future__ import annotations

import pytest
from autolog_helpers import require

import nbtrack


def module_and_data():
    torch = require("torch")
    pl = require("lightning.pytorch")
    from torch.utils.data import DataLoader, TensorDataset

    class Tiny(pl.LightningModule):
        def __init__(self, lr=0.05, hidden=4, schedule={"warmup": 1}):  # noqa: B006 - hparams as users write them
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

        def step(self, batch, name):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y)
            self.log(name, loss)
            return loss

        def training_step(self, batch, index):
            return self.step(batch, "train_loss")

        def validation_step(self, batch, index):
            self.step(batch, "val_loss")

        def test_step(self, batch, index):
            self.step(batch, "test_loss")

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    loader = DataLoader(TensorDataset(x, x.sum(1)), batch_size=16)
    return pl, Tiny, loader


def trainer(pl, root, **kwargs):
    return pl.Trainer(max_epochs=2, enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=1,
                      default_root_dir=str(root), **kwargs)


def test_autolog_adds_the_logger_fit_and_test_in_one_cell_share_its_run(tmp_path, runs, no_autolog_warnings):
    pl, Tiny, loader = module_and_data()
    nbtrack.autolog.lightning(log_models=True)
    with nbtrack.track("exp", name="cell"):
        fitted = trainer(pl, tmp_path, logger=False)
        fitted.fit(Tiny(lr=0.05), loader, loader)
        fitted.test(fitted.lightning_module, loader, verbose=False)

    [run] = runs()
    assert run.name == "cell"
    assert run.params["lr"] == 0.05 and run.params["hidden"] == 4 and run.params["schedule/warmup"] == 1
    assert run.params["max_epochs"] == 2 and run.params["optimizer_name"] == "SGD"
    assert run.params["opt_lr"] == 0.05 and run.params["opt_momentum"] == 0.9
    steps = run.metric_history("train_loss")["step"].tolist()
    assert steps == list(range(8))  # 4 batches x 2 epochs, at the trainer's global step
    assert len(run.metric_history("val_loss")) == 2 and "test_loss" in run.metrics
    best = fitted.checkpoint_callback.best_model_path
    assert run.tags["checkpoint.best_model_path"] == best
    assert "| net  | Sequential | 21" in run.artifact("model_summary.txt").read_text()
    assert run.artifact(f"models/{best.rsplit('/', 1)[-1]}").size > 0


def test_the_logger_by_hand_outside_any_run_has_its_own_run(tmp_path, runs):
    pl, Tiny, loader = module_and_data()
    from nbtrack.autolog import NbtrackLogger

    logger = NbtrackLogger(run_name="by-hand")
    trainer(pl, tmp_path, logger=logger, max_steps=3).fit(Tiny(hidden=2), loader)

    [run] = runs()
    assert run.name == "by-hand" and run.status == "FINISHED" and run.tags["nbtrack.autolog"] == "lightning"
    assert run.params["hidden"] == 2 and list(run.metric_history("train_loss")["step"]) == [0, 1, 2]
    assert logger.version == run.run_id and logger.name == "default"  # reading them starts no other run
    assert len(runs()) == 1
    assert run.tags["checkpoint.best_model_path"].startswith(str(tmp_path))
    assert f"/{run.run_id}/checkpoints/" in run.tags["checkpoint.best_model_path"]  # <root>/<experiment>/<run id>


def test_a_failing_training_step_fails_the_autolog_run(tmp_path, runs):
    pl, Tiny, loader = module_and_data()

    class Broken(Tiny):
        def training_step(self, batch, index):
            raise RuntimeError("nan loss")

    nbtrack.autolog()
    with pytest.raises(RuntimeError, match="nan loss"):
        trainer(pl, tmp_path, logger=False).fit(Broken(), loader)
    [run] = runs()
    assert run.status == "FAILED" and run.name == "Broken" and run.params["lr"] == 0.05
