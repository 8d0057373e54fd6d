"""What ``nbtrack ui`` decides before serving: the token, the URL, the port, what the page's kernels
get in their environment, the Voilà configuration, and the header the page shows."""

from __future__ import annotations

import socket
import sys

import pytest

from nbtrack.errors import MissingDependencyError
from nbtrack.ui import page, server


def test_the_token_is_generated_taken_from_the_variable_or_refused_when_empty(monkeypatch):
    monkeypatch.delenv(server.TOKEN_ENV, raising=False)
    first, generated = server.resolve_token(None)
    assert generated and len(first) >= 32 and server.resolve_token(None)[0] != first
    assert server.resolve_token("given-token") == ("given-token", False)
    monkeypatch.setenv(server.TOKEN_ENV, "from-the-environment")
    assert server.resolve_token(None) == ("from-the-environment", False)
    with pytest.raises(ValueError, match="cannot be empty"):
        server.resolve_token("  ")


def test_page_url():
    assert server.page_url("127.0.0.1", 8866, "a/b+c") == "http://127.0.0.1:8866/?token=a%2Fb%2Bc"
    assert server.page_url("::1", 9000) == "http://[::1]:9000/"
    assert server.page_url("0.0.0.0", 9000) == f"http://{socket.gethostname()}:9000/"


def test_a_busy_default_port_is_skipped_and_a_busy_chosen_one_refused(monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"port {taken} on 127.0.0.1 is taken"):
            server.pick_port("127.0.0.1", taken)
        monkeypatch.setattr(server, "DEFAULT_PORT", taken)
        assert server.pick_port("127.0.0.1", None) not in (None, taken)


def test_the_kernels_open_the_store_read_only_and_never_see_the_token(tmp_path):
    settings = server.UiSettings("sqlite:////data/runs.db", ["a", "b"], "metrics.acc > 0.5", token="secret-token")
    env = server.kernel_environment(settings, tmp_path)
    assert env["NBTRACK_READ_ONLY"] == "1" and env["NBTRACK_STORE"] == "sqlite:////data/runs.db"
    assert env[page.EXPERIMENTS_ENV] == '["a", "b"]' and env[page.FILTER_ENV] == "metrics.acc > 0.5"
    assert "secret-token" not in repr(env)


def test_the_voila_configuration_serves_the_page_only(tmp_path):
    notebook = server.write_page_files(tmp_path)
    config = server.voila_config(notebook, "127.0.0.1", 8866, "tok")
    assert (config.Voila.ip, config.Voila.port, config.Voila.token) == ("127.0.0.1", 8866, "tok")
    assert config.Voila.port_retries == 0 and config.Voila.config_file_paths == []
    assert config.VoilaConfiguration.file_allowlist == [] and config.VoilaConfiguration.show_tracebacks is False
    assert "anywidget" in config.VoilaConfiguration.extension_allowlist
    assert "default-src 'self'" in config.Voila.tornado_settings["headers"]["Content-Security-Policy"]
    kernel = (tmp_path / "jupyter" / "kernels" / server.KERNEL_NAME / "kernel.json").read_text()
    assert sys.executable in kernel and "show()" in notebook.read_text()


def test_voila_missing_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "voila.app", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'nbtrack\[ui\]'"):
        server._voila_app()


def test_the_header_is_escaped():
    html = page.header_html("sqlite:////tmp/<b>x</b>.db")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
