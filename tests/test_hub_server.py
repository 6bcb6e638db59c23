"""The test-only Hub server: private repos, unsafe paths and request bodies (raw HTTP, no huggingface_hub)."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from hub_server import LocalHubServer

TOKEN = "hf_local_test_token"


def _request(hub: LocalHubServer, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    host, port = hub.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def _create(hub: LocalHubServer, name: str, private: bool = False) -> int:
    body = json.dumps({"name": name, "type": "model", "private": private}).encode()
    return _request(hub, "POST", "/api/repos/create", body, {**_auth(), "Content-Type": "application/json"})[0]


def test_private_repo_hidden_from_anonymous_clients():
    with LocalHubServer(token=TOKEN) as hub:
        assert _create(hub, "secret", private=True) == 200
        assert _create(hub, "open") == 200
        status, body = _request(hub, "GET", "/api/models/test-user/secret", headers=_auth())
        assert status == 200 and json.loads(body)["private"] is True
        assert json.loads(_request(hub, "GET", "/api/models/test-user/open")[1])["private"] is False
        for path in ("/api/models/test-user/secret", "/api/models/test-user/secret/tree/main",
                     "/test-user/secret/resolve/main/config.json"):
            assert _request(hub, "GET", path)[0] == 404, path
            assert _request(hub, "GET", path, headers={"Authorization": "Bearer wrong"})[0] == 404, path


@pytest.mark.parametrize("path", [
    "/api/models/test-user/open/tree/main/../../other",
    "/test-user/open/resolve/main/..%2F..%2Fetc%2Fpasswd",
    "/test-user/open/resolve/main//etc/passwd",
    "/test-user/open/resolve/main/a%5C..%5Cb",
    "/api/models/test-user/..",
])
def test_unsafe_paths_in_urls_are_400(path):
    with LocalHubServer(token=TOKEN) as hub:
        assert _create(hub, "open") == 200
        status, body = _request(hub, "GET", path)
        assert status == 400, (path, body)


@pytest.mark.parametrize("bad", ["../escape.txt", "/abs.txt", "C:/x.txt", "dir\\x.txt"])
def test_unsafe_paths_in_bodies_are_400(bad):
    with LocalHubServer(token=TOKEN) as hub:
        assert _create(hub, "open") == 200
        ndjson = "\n".join(json.dumps(item) for item in [
            {"key": "header", "value": {"summary": "x"}},
            {"key": "file", "value": {"path": bad, "content": "aGk=", "encoding": "base64"}},
        ]).encode()
        status, _ = _request(hub, "POST", "/api/models/test-user/open/commit/main", ndjson, _auth())
        assert status == 400
        assert hub.repos["test-user/open"].files == {}
        assert _create(hub, "..") == 400


def test_bad_and_huge_content_length():
    with LocalHubServer(token=TOKEN, max_body=1000) as hub:
        assert _create(hub, "open") == 200
        for length, expected in (("abc", 400), ("-5", 400), (str(10**12), 413), ("1001", 413)):
            status, body = _raw(hub, f"POST /api/models/test-user/open/commit/main HTTP/1.1\r\nHost: x\r\n"
                                     f"Authorization: Bearer {TOKEN}\r\nContent-Length: {length}\r\n\r\n")
            assert status == expected, (length, body)


def test_short_body_does_not_block_the_server():
    with LocalHubServer(token=TOKEN, request_timeout=0.5) as hub:
        assert _create(hub, "open") == 200
        start = time.monotonic()
        status, _ = _raw(hub, f"POST /api/models/test-user/open/commit/main HTTP/1.1\r\nHost: x\r\n"
                              f"Authorization: Bearer {TOKEN}\r\nContent-Length: 100\r\n\r\nonly ten b")
        assert status == 400 and time.monotonic() - start < 5
        assert _request(hub, "GET", "/api/models/test-user/open")[0] == 200


def _raw(hub: LocalHubServer, request: str) -> tuple[int, bytes]:
    """Send ``request`` as is (keeping the socket open for writing) and read the status line of the answer."""
    host, port = hub.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer
