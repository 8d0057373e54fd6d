"""pyproject.toml declares what nbtrack imports, and nothing it does not."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"IPython": "ipython", "skops": "skops", "PIL": "pillow", "sklearn": "scikit-learn",
                 "yaml": "pyyaml"}
# Used only when the user's environment has them (an image the user passes, a framework autolog adapts
# to, a system-metrics source), each import guarded: nbtrack never installs them.
USED_WHEN_PRESENT = {"pillow", "psutil", "pynvml", "scipy", "xgboost"}


def _imported_modules() -> set[str]:
    names = set()
    for path in (ROOT / "nbtrack").rglob("*.py"):
        if "labextension" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "nbtrack"}


def _declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_every_imported_package_is_declared_and_nbconvert_is_gone():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = _declared(project["dependencies"])
    optional = set().union(*(_declared(r) for r in project["optional-dependencies"].values()))
    imported = {DISTRIBUTIONS.get(name, name).lower() for name in _imported_modules()}
    assert {"numpy", "traitlets", "comm", "jinja2"} <= required
    assert imported - required - optional - USED_WHEN_PRESENT == set()
    assert "nbconvert" not in required | optional
    extras = project["optional-dependencies"]
    assert extras["postgres"] == ["psycopg>=3.1"] and "psycopg[binary]>=3.1" in extras["postgres-binary"]
    assert any(r.startswith("pyarrow") for r in extras["parquet"])
    dev = extras["dev"][0]
    assert "postgres-binary" in dev and "parquet" in dev  # a fresh machine gets a working driver
    assert any(r.startswith("ruff") for r in extras["dev"])


def test_package_data_ships_py_typed_and_templates():
    assert (ROOT / "nbtrack" / "py.typed").is_file()
    assert {p.name for p in (ROOT / "nbtrack" / "dashboards" / "templates").glob("*.html")} >= {
        "report.html", "detail.html", "compare.html"}
