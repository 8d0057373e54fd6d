"""The labextension's packaging stays consistent with the Python package."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_versions_names_and_output_paths_agree():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package = json.loads((ROOT / "labextension" / "package.json").read_text())
    install = json.loads((ROOT / "install.json").read_text())

    assert package["version"] == pyproject["project"]["version"]
    assert install["packageName"] == pyproject["project"]["name"]
    out = (ROOT / "labextension" / package["jupyterlab"]["outputDir"]).resolve()
    assert out == ROOT / "nbtrack" / "labextension"

    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["nbtrack/labextension"] == f"share/jupyter/labextensions/{package['name']}"
    assert shared["install.json"] == f"share/jupyter/labextensions/{package['name']}/install.json"
    hook = pyproject["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    assert hook["build-kwargs"]["path"] == "labextension"
    assert "nbtrack/labextension/static/style.js" in hook["ensured-targets"]
    assert (ROOT / "labextension" / "yarn.lock").is_file()
