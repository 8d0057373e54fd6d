"""The recorded git remote never keeps credentials."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("url, expected", [
    ("https://user:p@ss@github.com/team/repo.git", "https://github.com/team/repo.git"),
    ("https://user:tok@en@host:8443/repo", "https://host:8443/repo"),
    ("https://token@github.com/team/repo.git", "https://github.com/team/repo.git"),
    ("ssh://git:pw@host:22/repo", "ssh://host:22/repo"),
    ("git@github.com:team/repo.git", "git@github.com:team/repo.git"),
    ("https://github.com/team/a@b.git", "https://github.com/team/a@b.git"),
])
def test_git_remote_credentials_are_stripped_entirely(url, expected):
    """A password with an '@' in it used to leave its tail in the recorded remote."""
    from nbtrack.gitinfo import strip_credentials

    assert strip_credentials(url) == expected
