"""A tracked notebook cell in a real kernel prints and displays secrets from the environment
and its own code, inside a git repository with a dirty diff: an attacker who reads every byte
under the store directory finds none of them, and ordinary tokenizer code is kept as written.

Fake secrets are assembled from parts at run time (no credential in this file).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from nb_helpers import all_runs, write_notebook

LOAD = "%load_ext nbtrack\nimport nbtrack"


def j(*parts: str) -> str:
    return "".join(parts)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd,
                   check=True, capture_output=True)


def test_a_tracked_cell_leaves_no_secret_in_the_raw_store_files(workdir, start_kernel, store_uri):
    aws = j("wJalrXUtnFEMI", "/K7MDENG/bPxRfi", "CYzEXAMPLEKEY")
    my_pw = j("correct", "horse", "battery")
    dict_pw, login_pw = j("dictpass", "-1717"), j("loginpass", "-2323")
    hf = j("h", "f_", "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi")
    gl = j("gl", "pat-", "xY7zQ2wE9rT4uI1oP6aS")
    diff_pw, diff_key = j("diffpass", "-4242"), j("sk", "-proj-", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34")
    _git(workdir, "init", "-q")
    (workdir / "settings.py").write_text("x = 1\n")
    _git(workdir, "add", "settings.py")
    _git(workdir, "commit", "-q", "-m", "v1")
    (workdir / "settings.py").write_text(f"x = 1\npassword = '{diff_pw}'\nKEY = '{diff_key}'\n")
    cell = (
        "%%track\n"
        "import os\n"
        "from IPython.display import HTML, display\n"
        "lr = 0.1\n"
        "tokenizer_name = \"bert-base-uncased\"\n"
        "special = dict(unk_token=\"[UNK]\", pad_token='[PAD]', eos_token = \"</s>\")\n"
        f"config = {{'password': '{dict_pw}', 'lr': lr}}\n"
        "def login(user, pw):\n    return user\n"
        f"login('admin', '{login_pw}')\n"
        f"hub = '{hf}'\n"
        "print(os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['MY_PASSWORD'])\n"
        f"display(HTML('<table><tr><td>' + os.environ['MY_PASSWORD'] + ' {gl}</td></tr></table>'))\n"
        "os.environ['MY_PASSWORD']\n"
    )
    notebook = write_notebook(workdir / "secret.ipynb", [("code", "c1", LOAD), ("code", "c2", cell)])
    kernel = start_kernel(JPY_SESSION_NAME=str(notebook), AWS_SECRET_ACCESS_KEY=aws, MY_PASSWORD=my_pw)
    assert kernel.execute(LOAD, cell_id="c1").status == "ok"
    reply = kernel.execute(cell, cell_id="c2")
    assert reply.status == "ok" and aws in reply.stdout, "the user still sees what the cell printed"
    failing = f"%%track\nraise RuntimeError('rejected ' + os.environ['MY_PASSWORD'] + ' {hf}')"
    assert kernel.execute(failing).status == "error"
    kernel.shutdown()

    store = Path(store_uri.removeprefix("sqlite:///")).parent
    raw = b"".join(path.read_bytes() for path in store.rglob("*") if path.is_file())
    assert raw
    for secret in (aws, my_pw, dict_pw, login_pw, hf, gl, diff_pw, diff_key):
        assert secret.encode() not in raw, secret[:5]
    first, second = all_runs()
    cell_doc = first.document("cell")
    for kept in ('tokenizer_name = "bert-base-uncased"', 'unk_token="[UNK]"', "pad_token='[PAD]'",
                 'eos_token = "</s>"', "config = {'password': '<redacted>', 'lr': lr}",
                 "login('admin', '<redacted>')"):
        assert kept in cell_doc["source"], kept
    assert "<redacted> <redacted>" in cell_doc["stdout"]
    assert first.params.get("tokenizer_name") == "bert-base-uncased"
    assert second.status == "FAILED" and "rejected <redacted> <redacted>" in second.error["message"]
    assert any(row["where"].startswith("documents.") for row in first.document("redactions"))
