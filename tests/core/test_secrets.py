"""Secrets never reach the store: a corpus of real-looking secrets (all redacted) and
look-alike ordinary lines (none changed), then an attacker's grep of the raw store files
after a real script ran in a real git repository with a dirty diff and failed.

Every fake secret is assembled from parts at run time, so this file holds no credential
and trips no secret scanner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nbtrack
from nbtrack.secrets import PATTERNS, REDACTED, is_secret_name, redact, redact_text, redact_value

REPO = Path(__file__).resolve().parents[2]


def j(*parts: str) -> str:
    return "".join(parts)


# (label, line with the secret, the secret value that must disappear)
def secret_corpus() -> list[tuple[str, str, str]]:
    corpus = [(p.name, f"client.use({j(*p.example)!r})  # {p.name}", j(*p.example)) for p in PATTERNS]
    aws_secret = j("wJalrXUtnFEMI", "/K7MDENG/bPxRfi", "CYzEXAMPLEKEY")
    jwt = j(*next(p.example for p in PATTERNS if p.name == "jwt"))
    pw = j("Tr0ub", "4dor&3")
    corpus += [
        ("assigned password", f"password = '{pw}'", pw),
        ("annotated", f'db_password: str = "{j("c0rrect-", "h0rse")}"', j("c0rrect-", "h0rse")),
        ("dict literal", f"config = {{'password': '{j('xk9-', 'Qz!pw')}', 'lr': 0.1}}", j("xk9-", "Qz!pw")),
        ("positional login", f"login('admin', '{j('S3cr3t', '!pass')}')", j("S3cr3t", "!pass")),
        ("keyword argument", f'connect(host="db", password="{j("pgpass", "-991")}")', j("pgpass", "-991")),
        ("environ assignment", f'os.environ["MY_PASSWORD"] = "{j("envpass", "-777")}"', j("envpass", "-777")),
        ("export line", f"export AWS_SECRET_ACCESS_KEY={aws_secret}", aws_secret),
        ("dotenv line", f"API_KEY={j('abc123', 'def456ghi')}", j("abc123", "def456ghi")),
        ("client secret", f'client_secret = "{j("cs-88a7", "f1e2d3")}"', j("cs-88a7", "f1e2d3")),
        ("json key", f'{{"api_key": "{j("k-12345", "67890")}"}}', j("k-12345", "67890")),
        ("url without user", f"r = Redis.from_url('redis://:{j('p4ss', 'w0rdX')}@cache:6379/0')", j("p4ss", "w0rdX")),
        ("secret key", f"SECRET_KEY = '{j('django-insecure-', 'abc123xyz')}'", j("django-insecure-", "abc123xyz")),
        ("bare token", f'token = "{j("abcdEFGH", "1234")}"', j("abcdEFGH", "1234")),
        ("bearer jwt", f"headers = {{'Authorization': 'Bearer {jwt}'}}", jwt),
    ]
    return corpus


LOOK_ALIKES = [
    'tok = Tokenizer(BPE(unk_token="[UNK]"))',
    "tokenizer.add_special_tokens({'pad_token': '[PAD]'})",
    "pad_token='[PAD]'",
    'eos_token = "</s>"',
    'bos_token = "<s>"',
    'mask_token = "[MASK]"',
    'trainer = BpeTrainer(special_tokens=["[UNK]", "[CLS]"], cls_token="[CLS]", sep_token="[SEP]")',
    'tokenizer_name = "bert-base-uncased"',
    'input_token = "hello"',
    "lr = 0.1",
    "max_tokens = 256",
    'max_new_tokens = "512"',
    'token_type_ids = enc["token_type_ids"]',
    "tokens = tokenizer.tokenize(text)",
    'if token == "x": pass',
    'commit = "3f786850e387550fdab836ed7e6dc881de23001b"',
    'sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    'md5 = "d41d8cd98f00b204e9800998ecf8427e"',
    'run_id = "550e8400-e29b-41d4-a716-446655440000"',
    'pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="',
    'key = "accuracy"',
    'sort_key = "loss"',
    'author = "Jane"',
    'monkey = "banana"',
    'keyword = "lstm"',
    'primary_key = "id"',
    "password = getpass.getpass()",
    'url = "https://huggingface.co/bert-base-uncased"',
    "git clone git@github.com:org/repo.git",
    'model = "sk-learn-baseline"',
    "Basic configuration of the model",
    'description: "training a tokenizer on wikitext"',
    'version = "1.2.3"',
    'cwd = "/tmp/work"',
]


@pytest.mark.parametrize("label,line,secret", secret_corpus(), ids=[c[0] for c in secret_corpus()])
def test_every_secret_in_the_corpus_is_redacted(label, line, secret):
    out, findings = redact_text(line)
    assert secret not in out and REDACTED in out and findings
    assert all(secret not in f.pattern for f in findings)


def test_the_corpus_is_large_enough():
    assert len(secret_corpus()) >= 30 and len(LOOK_ALIKES) >= 30


@pytest.mark.parametrize("line", LOOK_ALIKES)
def test_ordinary_code_is_left_alone(line):
    assert redact(line) == line


def test_values_are_redacted_not_code_structure():
    assert redact('password = "hunter22"') == 'password = "<redacted>"'
    assert redact("config = {'password': 'hunter22', 'lr': 0.1}") == "config = {'password': '<redacted>', 'lr': 0.1}"
    assert redact("login('admin', 'hunter22')") == "login('admin', '<redacted>')"


def test_names():
    for name in ("AWS_SECRET_ACCESS_KEY", "MY_PASSWORD", "OPENAI_API_KEY", "db_password", "auth_token", "HF_TOKEN"):
        assert is_secret_name(name), name
    for name in ("tokenizer_name", "pad_token", "max_tokens", "author", "key", "sort_key", "JPY_SESSION_NAME"):
        assert not is_secret_name(name), name


def test_values_of_secret_named_environment_variables_are_redacted_anywhere(monkeypatch):
    value = j("plain", "words", "nobody", "would", "guess")
    monkeypatch.setenv("MY_PASSWORD", value)
    out, findings = redact_text(f"print -> {value}!")
    assert value not in out and [f.pattern for f in findings] == ["known_secret_value"]


def test_the_shells_working_directory_variables_are_not_secrets(monkeypatch, tmp_path):
    """PWD and OLDPWD name the shell's directories (not a password): paths under them stay."""
    monkeypatch.setenv("PWD", str(tmp_path / "project"))
    monkeypatch.setenv("OLDPWD", str(tmp_path / "before"))
    path = str(tmp_path / "project" / "checkpoints" / "epoch=1.ckpt")
    out, findings = redact_text(f"saved to {path}")
    assert path in out and findings == []


def test_nested_params_are_redacted_by_key_and_format():
    pw, hf = j("hun", "ter22x"), j("h", "f_", "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi")
    value = {"db": {"password": pw, "port": 5432}, "models": [hf, "bert"], "lr": 0.1}
    assert redact_value(value) == {"db": {"password": REDACTED, "port": 5432}, "models": [REDACTED, "bert"],
                                   "lr": 0.1}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd,
                   check=True, capture_output=True)


def _raw_store_bytes(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_no_secret_reaches_the_raw_store_files_of_a_failing_script(tmp_path):
    """An attacker reads every byte under the store directory after a real run."""
    aws = j("wJalrXUtnFEMI", "/K7MDENG/bPxRfi", "CYzEXAMPLEKEY")
    my_pw = j("correct", "horse", "battery")
    diff_pw, diff_key = j("diffpass", "-4242"), j("sk", "-proj-", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34")
    dict_pw, login_pw = j("dictpass", "-1717"), j("loginpass", "-2323")
    hf = j("h", "f_", "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi")
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "train.py").write_text("print('v1')\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "v1")
    (repo / "settings.py").write_text("")
    _git(repo, "add", "settings.py")
    (repo / "settings.py").write_text(
        f"password = '{diff_pw}'\nOPENAI = '{diff_key}'\nDB = {{'password': '{dict_pw}'}}\n")
    (repo / "train.py").write_text(textwrap.dedent(f"""
        import os
        import nbtrack
        config = {{'password': '{dict_pw}', 'lr': 0.1}}
        with nbtrack.track("secrets") as run:
            run.log_params({{"config": config, "hub": "{hf}", "tokenizer_name": "bert-base-uncased"}})
            run.set_tag("owner", os.environ["MY_PASSWORD"])
            run.log_note("aws " + os.environ["AWS_SECRET_ACCESS_KEY"])
            run.set_document("custom", {{"seen": os.environ["MY_PASSWORD"]}})
            print(login('admin', '{login_pw}') if False else "")
            raise RuntimeError("could not log in with " + os.environ["AWS_SECRET_ACCESS_KEY"] + " {hf}")
    """))
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env.update(NBTRACK_STORE=f"sqlite:///{store / 'nbtrack.db'}", AWS_SECRET_ACCESS_KEY=aws, MY_PASSWORD=my_pw,
               PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "train.py"], cwd=repo, env=env, capture_output=True, text=True,
                            timeout=120)
    assert "could not log in" in result.stderr  # the user's error is untouched on screen
    raw = _raw_store_bytes(store)
    assert raw, "the run left no store files"
    for secret in (aws, my_pw, diff_pw, diff_key, dict_pw, login_pw, hf):
        assert secret.encode() not in raw, secret[:4]
    nbtrack.set_store(f"sqlite:///{store / 'nbtrack.db'}")
    try:
        frame = nbtrack.runs(experiment="secrets")
        record = nbtrack.get_run(frame["run_id"].iloc[0])
        assert record.status == "FAILED"
        assert record.params["tokenizer_name"] == "bert-base-uncased"
        error = record.document("error")
        assert "could not log in with <redacted>" in error["message"]
        places = {row["where"] for row in record.document("redactions")}
        assert {"params.config", "params.hub", "tags.owner", "notes", "error.message"} <= places
        assert all(set(row) == {"where", "pattern", "count"} for row in record.document("redactions"))
        environment = json.dumps(record.document("environment"))
        assert "password = '<redacted>'" in environment  # the diff keeps its code
    finally:
        nbtrack.set_store(None)
