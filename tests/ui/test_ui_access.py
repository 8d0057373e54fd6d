"""Who can reach an ``nbtrack ui`` server, and what they can make it do (a real server, a real
SQLite store, HTTP and the kernel's websocket; no browser).

- every HTTP request and every websocket needs the token: none, or a wrong one, is refused;
- with the token, the page's websocket carries widget messages only: code sent to the kernel
  never runs;
- the server listens on 127.0.0.1 unless told otherwise;
- bad input (an empty token, a bad filter, an unreachable store) fails before serving, saying
  why, with the store's password never printed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json
import re
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest
from uiserver import start_ui, ui_environment

TOKEN = "t0ken-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server(sqlite_store):
    uri, _ids = sqlite_store
    with start_ui(uri, token=TOKEN) as running:
        yield running


def _get(server, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """One request, redirects not followed: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _open_page(server) -> tuple[str, str]:
    """Open the page with the token: (its kernel's id, the login cookie the server set)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request("GET", f"/?token={TOKEN}")
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
    finally:
        connection.close()
    assert response.status == 200, body[-2000:]
    login = [c for c in cookies if c.startswith("username-")]
    assert login, cookies
    return re.search(r'"kernelId": "([0-9a-f-]{36})"', body).group(1), login[0]


def _kernel_of_page(server) -> str:
    return _open_page(server)[0]


def _message(msg_type: str, content: dict) -> dict:
    header = {"msg_id": uuid.uuid4().hex, "username": "reviewer", "session": uuid.uuid4().hex,
              "msg_type": msg_type, "version": "5.3", "date": dt.datetime.now(dt.timezone.utc).isoformat()}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "buffers": [],
            "channel": "shell"}


async def _open_channels(server, kernel_id: str, query: str = "", headers: dict | None = None):
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels{query}"
    try:
        return await websocket_connect(HTTPRequest(url, headers=headers or {}, request_timeout=60))
    except HTTPClientError as error:
        return error.code


def test_the_page_and_the_api_need_the_token(server):
    for path in ("/", "/?token=wrong", f"/?token={TOKEN[:-1]}"):
        status, headers, body = _get(server, path)
        assert status == 302 and urlsplit(headers["Location"]).path == "/login", (path, status)
        assert "kernelId" not in body
    kernel_id = _kernel_of_page(server)
    assert _get(server, f"/api/kernels/{kernel_id}")[0] == 403
    assert _get(server, f"/api/kernels/{kernel_id}", {"Authorization": "token wrong"})[0] == 403
    status, _headers, body = _get(server, f"/api/kernels/{kernel_id}", {"Authorization": f"token {TOKEN}"})
    assert status == 200 and json.loads(body)["id"] == kernel_id
    # nothing else of the machine is served, even with the token
    auth = {"Authorization": f"token {TOKEN}"}
    for path in ("/voila/files/nbtrack.ipynb", "/api/contents", "/etc/passwd", "/voila/render/nbtrack.ipynb"):
        status, headers, _body = _get(server, path, auth)
        if status == 302:  # Voilà sends other paths to its file handler, which serves nothing
            status, headers, _body = _get(server, urlsplit(headers["Location"]).path, auth)
        assert status in (403, 404), (path, status)


def test_the_kernel_websocket_needs_the_token_and_runs_no_code(server, tmp_path):
    kernel_id, cookie = _open_page(server)
    marker = tmp_path / "ran.txt"

    async def scenario():
        assert await _open_channels(server, kernel_id) == 403
        assert await _open_channels(server, kernel_id, "?token=wrong") == 403
        assert await _open_channels(server, kernel_id, headers={"Cookie": "username-x=forged"}) == 403
        # the browser's login cookie, but sent by another site's page (cross-site websocket hijacking)
        assert await _open_channels(server, kernel_id, headers={
            "Cookie": cookie, "Origin": "http://evil.example"}) == 403
        own = await _open_channels(server, kernel_id, headers={
            "Cookie": cookie, "Origin": f"http://127.0.0.1:{server.port}"})
        assert not isinstance(own, int), own
        own.close()
        channel = await _open_channels(server, kernel_id, f"?token={TOKEN}")
        assert not isinstance(channel, int), channel
        try:
            code = f"open({str(marker)!r}, 'w').write('the token ran code')"
            channel.write_message(json.dumps(_message("execute_request", {
                "code": code, "silent": False, "store_history": False, "user_expressions": {},
                "allow_stdin": False, "stop_on_error": True})))
            probe = _message("kernel_info_request", {})
            channel.write_message(json.dumps(probe))
            while True:  # the kernel answers in order: an execute_request it got would come first
                reply = json.loads(await asyncio.wait_for(channel.read_message(), 120))
                assert reply["msg_type"] != "execute_reply" and reply["msg_type"] != "execute_input"
                if reply["parent_header"].get("msg_id") == probe["header"]["msg_id"] \
                        and reply["msg_type"] == "kernel_info_reply":
                    break
        finally:
            channel.close()

    asyncio.run(scenario())
    assert not marker.exists()
    assert '"execute_request", which is not allowed' in server.errors()  # it reached the server, which dropped it


def test_it_listens_on_loopback_by_default(server):
    listening = []
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if int(port, 16) == server.port and state == "0A":  # LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing else
    assert "open http://127.0.0.1:" in server.output()
    assert TOKEN not in server.output()  # a token given by the user is not echoed


def test_a_generated_token_is_printed_with_the_url(sqlite_store):
    uri, ids = sqlite_store
    with start_ui(uri, "-e", "review") as running:
        out = running.output()
        assert f"12 runs in {uri}, read-only" in out
        assert running.token and len(running.token) >= 32 and f"?token={running.token}" in out
        assert _get(running, f"/?token={running.token}")[0] == 200
        assert _get(running, "/?token=" + TOKEN)[0] == 302


def _ui_fails(*args: str, env: dict | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "nbtrack.cli", *args], capture_output=True, text=True,
                            timeout=120, env=ui_environment(env))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Ctrl-C" not in result.stdout  # nothing was served
    return result.stderr


def test_bad_input_fails_before_serving(sqlite_store, tmp_path):
    uri, _ids = sqlite_store
    assert "token cannot be empty" in _ui_fails("--store", uri, "ui", "--token", " ")
    error = _ui_fails("--store", uri, "ui", "-f", "metrics.acc >> 1")
    assert "position" in error and "metrics.acc >> 1" in error
    missing = tmp_path / "none.db"
    assert "no nbtrack store" in _ui_fails("--store", str(missing), "ui")
    assert not missing.exists()
    error = _ui_fails("--store", "postgresql://reviewer:s3cret-pw@127.0.0.1:9/runs", "ui",
                      env={"NBTRACK_CONNECT_TIMEOUT": "2"})
    assert "s3cret-pw" not in error and "reviewer:***@127.0.0.1:9/runs" in error
