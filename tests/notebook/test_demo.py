"""The demo's next commands can be pasted as printed."""

from __future__ import annotations


def test_demo_next_commands_can_be_pasted_when_the_directory_has_spaces(tmp_path, store_uri):
    import shlex

    from test_notebooks_cli import cli

    result = cli("demo", "--dir", str(tmp_path / "my demo ü"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = [t for t in result.stdout.splitlines() if t.startswith("next: ")]
    ls_command, lab_command = (shlex.split(part) for part in line[len("next: "):].split("   |   "))
    assert lab_command == ["jupyter", "lab", str(tmp_path / "my demo ü" / "churn.ipynb")]
    assert ls_command[0] == "nbtrack"
    listed = cli(*ls_command[1:], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "baseline" in listed.stdout and "final" in listed.stdout
