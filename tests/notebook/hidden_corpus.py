"""A labelled corpus of out-of-order kernel histories for the hidden-state report.

Notebooks written for the tests, in the shapes real ML notebooks have (data cells with
seeds, feature and split cells, parameter cells, training loops, sweeps, helpers defined in
their own cells, re-imports, in-place updates, early stopping), and cases: a script of what a
person did (run, edit, edit and run, run code in a cell deleted since, delete, insert, move a
cell), then the tracked cell runs. Each case lists the findings the report should make, as
``(kind, cell key)`` (``("deleted", "@label")`` for code run in a cell deleted since), with a
comment saying why. A case with no finding is one where the kernel's state gives the tracked
cell what a top-to-bottom run would: the report must stay silent.

The labels are checked against what was done by running each notebook top to bottom as it
reads at the end (tests/notebook/hidden_replay.py): a case has expected findings exactly when
its tracked cell's result differs from that clean run's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOAD = "%load_ext nbtrack"


@dataclass(frozen=True)
class Notebook:
    name: str
    cells: tuple[tuple[str, str, str], ...]  # (key, cell type, source); the tracked cell has key "tracked"


@dataclass(frozen=True)
class Case:
    name: str
    notebook: str
    steps: tuple[tuple, ...]
    expect: tuple[tuple[str, str], ...] = ()
    why: str = ""
    tags: tuple[str, ...] = field(default=())


def tracked(body: str) -> str:
    return "%%track experiment=corpus params=result\n" + body


NOTEBOOKS = {nb.name: nb for nb in [
    Notebook("churn", (
        ("intro", "markdown", "# Churn model\nA tiny logistic regression, trained by hand."),
        ("load", "code", LOAD),
        ("imports", "code", "import math\nimport random\nimport statistics"),
        ("data", "code", "random.seed(0)\nrows = [(random.random(), random.random()) for _ in range(200)]\n"
                         "labels = [int(a + b > 1) for a, b in rows]"),
        ("features-md", "markdown", "## Features"),
        ("features", "code", "def featurize(row):\n    a, b = row\n    return [a, b, a * b]\n\n"
                             "X = [featurize(r) for r in rows]\ny = labels"),
        ("split", "code", "n_train = int(0.8 * len(X))\nX_train, X_test = X[:n_train], X[n_train:]\n"
                          "y_train, y_test = y[:n_train], y[n_train:]"),
        ("params", "code", "lr = 0.5\nepochs = 20"),
        ("train", "code", "w = [0.0, 0.0, 0.0]\nhistory = []\nfor epoch in range(epochs):\n    loss = 0.0\n"
                          "    for xi, yi in zip(X_train, y_train):\n"
                          "        p = 1 / (1 + math.exp(-sum(wj * xj for wj, xj in zip(w, xi))))\n"
                          "        w = [wj - lr * (p - yi) * xj for wj, xj in zip(w, xi)]\n"
                          "        loss += (p - yi) ** 2\n    history.append(loss)"),
        ("tracked", "code", tracked("import math\n"
                                    "scores = [sum(wj * xj for wj, xj in zip(w, xi)) for xi in X_test]\n"
                                    "preds = [int(s > 0) for s in scores]\n"
                                    "result = round(sum(p == t for p, t in zip(preds, y_test)) / len(y_test), 4)")),
        ("report", "code", "print(result, history[-1])"),
    )),
    Notebook("sweep", (
        ("load", "code", LOAD),
        ("imports", "code", "import random\nimport statistics"),
        ("metrics", "code", "def mse(a, b):\n    return statistics.fmean((x - y) ** 2 for x, y in zip(a, b))"),
        ("data", "code", "random.seed(1)\nxs = [i / 10 for i in range(100)]\n"
                         "ys = [3 * x + 1 + random.gauss(0, 0.1) for x in xs]"),
        ("percent", "code", "ys = [y * 10 for y in ys]"),
        ("stats", "code", "import statistics\nmean_y = statistics.fmean(ys)"),
        ("defaults", "code", "scale = 10.0\nintercept = 10"),
        ("override", "code", "scale = 11.0"),
        ("sweep", "code", "results = {}\nfor slope in (2.5, 3.0, 3.5):\n"
                          "    preds = [slope * x * scale + intercept for x in xs]\n"
                          "    results[slope] = mse(preds, ys)\nbest = min(results, key=results.get)"),
        ("later-scale", "code", "scale = 8.0"),
        ("tracked", "code", tracked("result = [best, round(results[best], 3), round(mean_y, 3)]")),
    )),
    Notebook("text", (
        ("load", "code", LOAD),
        ("imports", "code", "import collections\nimport os\nimport re"),
        ("docs", "code", "docs = ['The cat sat', 'the dog ran', 'A cat ran fast', 'dogs and cats']"),
        ("tokenizer", "code", "class Tokenizer:\n    def __init__(self, lower=True):\n        self.lower = lower\n\n"
                              "    def __call__(self, text):\n        text = text.lower() if self.lower else text\n"
                              "        return re.findall(r'\\w+', text)\n\ntok = Tokenizer()"),
        ("min-count", "code", "min_count = 1"),
        ("vocab", "code", "counts = collections.Counter()\nfor d in docs:\n    counts.update(tok(d))\n"
                          "vocab = sorted(w for w, n in counts.items() if (k := n) >= min_count)"),
        ("encode", "code", "try:\n    encoded = [[vocab.index(t) for t in tok(d)] for d in docs]\n"
                           "except ValueError as err:\n    encoded = []\nlengths = [len(e) for e in encoded]"),
        ("tracked", "code", tracked("with open(os.devnull, 'w') as sink:\n    print(len(vocab), file=sink)\n"
                                    "result = [len(vocab), sum(lengths)]")),
    )),
    Notebook("loss", (
        ("load", "code", LOAD),
        ("imports", "code", "import json\nimport math"),
        ("config", "code", "config = {'lr': 0.1, 'steps': 5}"),
        ("override", "code", "config['lr'] = 0.05"),
        ("state", "code", "losses = []"),
        ("train", "code", "value = 1.0\nfor step in range(config['steps']):\n    value -= config['lr'] * value\n"
                          "    losses.append(round(value, 6))"),
        ("tracked", "code", tracked("result = [len(losses), losses[-1]]")),
    )),
    Notebook("select", (
        ("load", "code", LOAD),
        ("imports", "code", "import random"),
        ("sample", "code", "random.seed(42)\nsample = random.sample(range(1000), 50)"),
        ("threshold", "code", "threshold = 500"),
        ("select", "code", "selected = [s for s in sample if s > threshold]"),
        ("tracked", "code", tracked("result = [len(selected), sum(selected)]")),
    )),
    Notebook("describe", (
        ("load", "code", LOAD),
        ("imports", "code", "import statistics"),
        ("values", "code", "values = [3, 1, 4, 1, 5, 9, 2, 6]"),
        ("helper", "code", "def describe(xs):\n    return {'mean': statistics.fmean(xs), 'max': max(xs)}"),
        ("summary", "code", "summary = describe(values)"),
        ("tracked", "code", tracked("result = [summary['mean'], summary['max']]")),
    )),
    Notebook("predict", (
        ("load", "code", LOAD),
        ("imports", "code", "import statistics"),
        ("scale", "code", "scale = 2.0"),
        ("helper", "code", "def predict(xs):\n    return [x * scale for x in xs]"),
        ("data", "code", "xs = [1.0, 2.0, 3.0]"),
        ("preds", "code", "preds = predict(xs)"),
        ("tracked", "code", tracked("result = [round(statistics.fmean(preds), 3), predict([1.0])[0]]")),
    )),
    Notebook("circle", (
        ("load", "code", LOAD),
        ("imports", "code", "import math as m\nimport statistics"),
        ("fmean", "code", "from statistics import fmean"),
        ("radius", "code", "import math\nradius = 2.0"),
        ("area", "code", "area = math.pi * radius ** 2\navg = fmean([area, m.tau])"),
        ("tracked", "code", tracked("import math\nfrom statistics import fmean\n"
                                    "result = [round(area, 3), round(avg, 3), round(math.sqrt(area), 3)]")),
    )),
    Notebook("early", (
        ("load", "code", LOAD),
        ("imports", "code", "import math"),
        ("settings", "code", "patience = 3\nmax_epochs = 50"),
        ("curve", "code", "val_losses = [1 / (e + 1) + (0.02 * e if e > 10 else 0) for e in range(max_epochs)]"),
        ("loop", "code", "best, best_epoch, waited = math.inf, -1, 0\nepoch = 0\nwhile epoch < max_epochs:\n"
                         "    if val_losses[epoch] < best:\n"
                         "        best, best_epoch, waited = val_losses[epoch], epoch, 0\n"
                         "    else:\n        waited += 1\n        if waited >= patience:\n            break\n"
                         "    epoch += 1"),
        ("tracked", "code", tracked("result = [best_epoch, round(best, 4), epoch]")),
    )),
]}


def run(*keys: str) -> tuple:
    return tuple(("run", key) for key in keys)


def everything(notebook: str, until: str = "tracked") -> tuple:
    """Run the notebook's code cells in order, up to (not including) ``until``."""
    keys = []
    for key, kind, _ in NOTEBOOKS[notebook].cells:
        if key == until:
            break
        if kind == "code":
            keys.append(key)
    return run(*keys)


def edit(key: str, source: str) -> tuple:
    return (("edit", key, source),)


def edit_run(key: str, source: str) -> tuple:
    return (("edit", key, source), ("run", key))


def scratch(label: str, source: str) -> tuple:
    """Code run in a cell deleted since."""
    return (("scratch", label, source),)


CHURN_DATA_1 = NOTEBOOKS["churn"].cells[3][2].replace("seed(0)", "seed(1)")
SWEEP_ABSOLUTE_ERROR = "def mse(a, b):\n    return statistics.fmean(abs(x - y) for x, y in zip(a, b))"
CHURN_TRAIN_TYPO = NOTEBOOKS["churn"].cells[8][2].replace("range(epochs)", "range(epoch)")

CASES = [
    # --- churn: a hand-trained logistic regression ------------------------------------------
    Case("churn-linear", "churn", everything("churn"), (), "run top to bottom"),
    Case("churn-data-rerun", "churn", everything("churn") + run("data"), (),
         "the seeded data cell re-run after the model: same rows, nothing changed"),
    Case("churn-data-edited-rerun", "churn", everything("churn") + edit_run("data", CHURN_DATA_1),
         (("stale", "features"),), "new data, but features (and all below) still hold the old rows"),
    Case("churn-data-edited", "churn", everything("churn") + edit("data", CHURN_DATA_1),
         (("edited", "data"),), "the data cell was edited and not run"),
    Case("churn-params-edited", "churn", everything("churn") + edit("params", "lr = 0.05\nepochs = 20"),
         (("edited", "params"),), "the learning rate was changed but not run"),
    Case("churn-params-rerun", "churn", everything("churn") + edit_run("params", "lr = 0.05\nepochs = 3"),
         (("stale", "train"),), "new params run, the model not retrained"),
    Case("churn-train-twice", "churn", everything("churn") + run("train"), (),
         "training twice: the cell starts from fresh weights each time"),
    Case("churn-reimport", "churn", everything("churn") + run("imports"), (), "re-importing changes nothing"),
    Case("churn-scratch-weights", "churn",
         everything("churn") + scratch("reset", "w = [0.0, 0.0, 0.0]  # start over"),
         (("deleted", "@reset"),), "weights reset in a scratch cell deleted since"),
    Case("churn-params-never-run", "churn",
         run("load", "imports", "data", "features", "split", "train"),
         (("never_run", "params"),), "params never ran: training failed on its first line that needs them"),
    Case("churn-failed-then-fixed", "churn",
         run("load", "imports", "data", "features", "split", "params") + edit_run("train", CHURN_TRAIN_TYPO)
         + edit_run("train", NOTEBOOKS["churn"].cells[8][2]), (),
         "a typo failed the training cell; fixed and re-run"),
    Case("churn-report-below-first", "churn", everything("churn") + run("tracked", "report"), (),
         "the tracked cell run twice, with a cell below in between that changes nothing"),

    # --- sweep: parameter sweep with helpers, re-imports and overrides ----------------------
    Case("sweep-linear", "sweep", everything("sweep", "later-scale") + run("later-scale"), (),
         "top to bottom; the cell below the sweep runs after it, as in order"),
    Case("sweep-later-cell", "sweep", everything("sweep", "later-scale") + run("later-scale", "sweep"),
         (("later", "later-scale"),), "the sweep re-run after a cell below it changed scale"),
    Case("sweep-defaults-rerun", "sweep", everything("sweep", "later-scale") + run("defaults", "sweep"),
         (("order", "defaults"),), "the defaults cell re-run after its override: the sweep used the default"),
    Case("sweep-percent-twice", "sweep", everything("sweep", "later-scale") + run("percent", "stats", "sweep"),
         (("rerun", "percent"),), "the cell scaling ys to percent ran twice"),
    Case("sweep-metric-edited", "sweep",
         everything("sweep", "later-scale") + edit("metrics", SWEEP_ABSOLUTE_ERROR),
         (("edited", "metrics"),), "the metric was changed to absolute error and not run"),
    Case("sweep-metric-rerun", "sweep",
         everything("sweep", "later-scale") + edit_run("metrics", SWEEP_ABSOLUTE_ERROR),
         (("stale", "sweep"),), "the new metric ran, the sweep did not"),
    Case("sweep-imports-again", "sweep", everything("sweep", "later-scale") + run("imports", "stats", "metrics"),
         (), "re-imports and re-defining the helper unchanged"),

    # --- text: tokenizer class, counters, try/except, walrus, with ---------------------------
    Case("text-linear", "text", everything("text"), (), "top to bottom"),
    Case("text-min-count-rerun", "text", everything("text") + edit_run("min-count", "min_count = 2"),
         (("stale", "vocab"),), "min_count raised and run; the vocabulary was not rebuilt"),
    Case("text-docs-edited", "text",
         everything("text") + edit("docs", "docs = ['The cat sat', 'the dog ran', 'A cat ran fast', "
                                           "'dogs and cats', 'a bird flew']"),
         (("edited", "docs"),), "a document added, not run"),
    Case("text-tokenizer-rerun", "text",
         everything("text") + edit_run("tokenizer", NOTEBOOKS["text"].cells[3][2].replace("lower=True", "lower=False")),
         (("stale", "vocab"), ("stale", "encode")), "a new tokenizer; vocab and encode still used the old one"),
    Case("text-scratch-docs", "text",
         everything("text") + scratch("subset", "docs = docs[:2]  # quick check") + run("vocab", "encode"),
         (("deleted", "@subset"),), "docs cut in a scratch cell, then the vocabulary rebuilt from it"),
    Case("text-vocab-twice", "text", everything("text") + run("vocab", "vocab", "encode"), (),
         "the counter is rebuilt from scratch each run"),

    # --- loss: in-place updates of dicts and lists ------------------------------------------
    Case("loss-linear", "loss", everything("loss"), (), "top to bottom"),
    Case("loss-train-twice", "loss", everything("loss") + run("train"), (("rerun", "train"),),
         "training appended to losses a second time"),
    Case("loss-config-rerun", "loss", everything("loss") + run("config", "state", "train"),
         (("order", "config"),), "config re-run after the cell overriding it; the override is lost"),
    Case("loss-override-twice", "loss", everything("loss") + run("override", "state", "train"), (),
         "setting config['lr'] again changes nothing"),
    Case("loss-state-rerun", "loss", everything("loss") + run("state"), (("order", "state"),),
         "losses emptied by re-running its cell after training"),

    # --- select: seeded sampling and a threshold --------------------------------------------
    Case("select-threshold-rerun", "select", everything("select") + edit_run("threshold", "threshold = 600"),
         (("stale", "select"),), "threshold changed and run; the selection was not redone"),
    Case("select-threshold-edited", "select", everything("select") + edit("threshold", "threshold = 600"),
         (("edited", "threshold"),), "threshold changed, not run"),
    Case("select-sample-rerun", "select", everything("select") + run("sample"), (),
         "the seeded sample re-drawn: the same sample"),
    Case("select-edited-twice", "select",
         everything("select") + edit_run("threshold", "threshold = 600") + run("select")
         + edit("threshold", "threshold = 700"),
         (("edited", "threshold"),), "run with 600, then edited to 700 and not run"),
    Case("select-edits-all-rerun", "select",
         everything("select") + edit_run("threshold", "threshold = 600") + edit_run("threshold", "threshold = 650")
         + run("select"), (), "edited twice, and everything below re-run"),
    Case("select-tracked-twice", "select", everything("select") + run("tracked"), (),
         "the tracked cell itself run twice"),

    # --- describe: a helper below its use; moved, deleted and inserted cells ----------------
    Case("describe-helper-below", "describe",
         (("move", "helper", "summary"),) + run("load", "imports", "values", "helper", "summary"),
         (("later", "helper"),), "summary uses describe, defined in the cell below it"),
    Case("describe-moved", "describe",
         (("move", "helper", "summary"),) + run("load", "imports", "values", "helper", "summary")
         + (("move", "helper", "values"),), (),
         "the helper moved back above its use: the notebook now reads in the order it ran"),
    Case("describe-values-deleted", "describe", everything("describe") + (("delete", "values"),),
         (("deleted", "@values"),), "the cell defining values was deleted after it ran"),
    Case("describe-inserted-never-run", "describe",
         everything("describe") + (("insert", "subset", "values", "values = values[:4]"),),
         (("never_run", "subset"),), "a cell inserted above and never run"),

    Case("select-threshold-rewritten", "select",
         everything("select") + edit("threshold", "threshold = int(0.6 * 1000)  # the 60th percentile"),
         (("edited", "threshold"),), "the threshold cell rewritten (little in common with what ran), not run"),
    Case("select-scratch-threshold", "select",
         everything("select") + scratch("try", "threshold = 550") + run("select"),
         (("deleted", "@try"),), "a threshold tried in a scratch cell deleted since (without ids it looks "
                                 "like an edit of the threshold cell)"),
    Case("select-harmless-edit", "select",
         everything("select") + edit_run("sample", "random.seed(42)\nsample = random.sample(range(1000), 50)\n"
                                                   "print(len(sample))  # how many"),
         (), "a print added to the sample cell and run: the sample is the same"),

    # --- predict: a function reading a global when it is called -----------------------------
    Case("predict-scale-rerun", "predict", everything("predict") + edit_run("scale", "scale = 3.0"),
         (("stale", "preds"),), "preds were computed with the old scale; the tracked cell's own call uses the new"),
    Case("predict-scale-rerun-all", "predict",
         everything("predict") + edit_run("scale", "scale = 3.0") + run("preds"), (),
         "everything that used the scale re-run"),
    Case("predict-helper-edited", "predict",
         everything("predict") + edit("helper", "def predict(xs):\n    return [x * scale + 1 for x in xs]"),
         (("edited", "helper"),), "the prediction function changed, not run"),

    # --- circle: aliases and re-imports -----------------------------------------------------
    Case("circle-linear", "circle", everything("circle"), (), "top to bottom"),
    Case("circle-reimports", "circle", everything("circle") + run("imports", "fmean", "radius"), (),
         "every import cell run again"),
    Case("circle-radius-rerun", "circle", everything("circle") + edit_run("radius", "import math\nradius = 3.0"),
         (("stale", "area"),), "radius changed and run; area not recomputed"),
    Case("circle-import-edited", "circle",
         everything("circle") + edit("fmean", "from statistics import geometric_mean as fmean"),
         (("edited", "fmean"),), "the imported function swapped, not run"),

    # --- early: while loop, break, augmented assignments -------------------------------------
    Case("early-linear", "early", everything("early"), (), "top to bottom"),
    Case("early-patience-rerun", "early", everything("early") + edit_run("settings", "patience = 6\nmax_epochs = 50"),
         (("stale", "loop"),), "patience raised and run; the loop not re-run"),
    Case("early-loop-twice", "early", everything("early") + run("loop"), (),
         "the loop resets its state each run"),
    Case("early-scratch-epoch", "early", everything("early") + scratch("debug", "epoch = 0  # debugging"),
         (("deleted", "@debug"),), "epoch reset by a scratch cell deleted since"),
]
