"""transformers.Trainer: a 2-layer BERT built from a config and a tokenizer built from a word list
(nothing downloaded)."""

from __future__ import annotations

import pytest
from autolog_helpers import require

import nbtrack

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "movie", "film", "was", "is", "great", "good",
         "fine", "awful", "bad", "dull"]
SENTENCES = [("the movie was great", 1), ("a good film", 1), ("the film is fine", 1), ("great movie", 1),
             ("the movie was awful", 0), ("a bad film", 0), ("the film is dull", 0), ("awful movie", 0)]


def setup(tmp_path, **arguments):
    torch = require("torch")
    transformers = require("transformers")
    require("accelerate")
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer, Trainer, TrainingArguments

    vocab = {word: index for index, word in enumerate(WORDS)}
    try:
        tokenizer = BertTokenizer(vocab=vocab)  # transformers 5
    except TypeError:  # transformers 4 reads a vocab file
        (tmp_path / "vocab.txt").write_text("\n".join(WORDS))
        tokenizer = BertTokenizer(vocab_file=str(tmp_path / "vocab.txt"))
    encoded = tokenizer([s for s, _ in SENTENCES * 2], padding="max_length", max_length=8, truncation=True,
                        return_tensors="pt")
    labels = torch.tensor([label for _, label in SENTENCES * 2])

    class Reviews(torch.utils.data.Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            return {"input_ids": encoded["input_ids"][i], "attention_mask": encoded["attention_mask"][i],
                    "labels": labels[i]}

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-3, logging_steps=1, eval_strategy="epoch", save_strategy="no",
                             report_to="none", use_cpu=True, disable_tqdm=True, **arguments)
    assert transformers.__version__
    return Trainer(model=BertForSequenceClassification(config), args=args, train_dataset=Reviews(),
                   eval_dataset=Reviews())


def test_autologged_train_logs_arguments_config_steps_evaluation_and_model(tmp_path, runs, no_autolog_warnings):
    trainer = setup(tmp_path)
    nbtrack.autolog.transformers(log_models=True)
    trainer.train()
    trainer.evaluate()  # after train(), outside any run: a run of its own

    trained, evaluated = runs()
    assert trained.name == "BertForSequenceClassification" and trained.tags["transformers_stage"] == "train"
    assert trained.params["learning_rate"] == 1e-3 and trained.params["num_train_epochs"] == 2
    assert trained.params["per_device_train_batch_size"] == 8
    assert trained.params["model.hidden_size"] == 16 and trained.params["model.num_hidden_layers"] == 2
    loss = trained.metric_history("loss")
    assert list(loss["step"]) == [1, 2, 3, 4]  # 16 examples / 8 per batch x 2 epochs, logged every step
    assert list(trained.metric_history("eval_loss")["step"]) == [2, 4]
    assert trained.metrics["train_runtime"] > 0 and "learning_rate" in trained.metrics
    names = [a.name for a in trained.artifacts]
    assert "models/BertForSequenceClassification/config.json" in names
    assert any(name.startswith("models/BertForSequenceClassification/model") for name in names)

    assert evaluated.name == "BertForSequenceClassification evaluate" and evaluated.status == "FINISHED"
    assert evaluated.metrics["eval_loss"] == pytest.approx(trained.metrics["eval_loss"], rel=1e-4)


def test_the_callback_by_hand_inside_a_run(tmp_path, runs):
    from nbtrack.autolog import NbtrackTrainerCallback

    trainer = setup(tmp_path)
    trainer.add_callback(NbtrackTrainerCallback())
    with nbtrack.track(name="cell"):
        trainer.train()
        trainer.evaluate()
    [run] = runs()
    assert run.name == "cell" and run.params["num_train_epochs"] == 2
    assert len(run.metric_history("eval_loss")) == 3  # two epochs, then evaluate()
    assert not any(a.name.startswith("models/") for a in run.artifacts)  # log_models is off by default
