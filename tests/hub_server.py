"""A tiny in-memory Hugging Face Hub for offline tests and demos, speaking the HTTP subset that
`huggingface_hub` (and through it transformers' `push_to_hub` / `from_pretrained`) uses.

Usage::

    from hub_server import LocalHubServer
    with LocalHubServer(token="hf_test") as hub:
        env = hub.client_env()   # {"HF_ENDPOINT": ..., "HF_TOKEN": ..., "HF_HUB_DISABLE_XET": "1", ...}
        # run push_to_hub / from_pretrained in a process (or after patching huggingface_hub.constants) with env

Endpoints: whoami-v2, repos/create, validate-yaml, preupload (always answers "regular" upload mode so files travel
inline, no LFS/Xet), commit (NDJSON), repo info (+ /revision/<rev>), tree, paths-info, and HEAD/GET resolve for
models and datasets. Writes need `Authorization: Bearer <token>` when a token is set (401 otherwise), so
failure paths can be tested too. A repo created with ``private: true`` is reported private and is not served to
clients without a valid token (404, as the Hub hides it). Repo names and file paths with ``..`` segments, a
leading ``/``, a backslash or a drive letter get 400; a bad ``Content-Length`` 400, one over ``max_body`` 413, and
a body that stops short of it 400 after ``request_timeout`` seconds (the handler thread never hangs).
Not a security boundary: bind to localhost only.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

_REPO = r"(?P<repo>[^/]+/[^/]+|[^/]+)"
_ROUTES = [
    ("GET", re.compile(r"^/api/whoami-v2$"), "whoami"),
    ("POST", re.compile(r"^/api/repos/create$"), "create_repo"),
    ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
    ("POST", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}/preupload/(?P<rev>[^/]+)$"), "preupload"),
    ("POST", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}/commit/(?P<rev>[^/]+)$"), "commit"),
    ("POST", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}/paths-info/(?P<rev>[^/]+)$"), "paths_info"),
    ("GET", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$"),
     "tree"),
    ("GET", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}/revision/(?P<rev>[^/]+)$"), "repo_info"),
    ("GET", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}$"), "repo_info"),
    ("HEAD", re.compile(rf"^/(?P<type>datasets/|spaces/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"), "resolve"),
    ("GET", re.compile(rf"^/(?P<type>datasets/|spaces/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"), "resolve"),
]


@dataclass
class _Repo:
    repo_type: str
    files: dict[str, bytes] = field(default_factory=dict)
    sha: str = "0" * 40
    commits: list[str] = field(default_factory=list)
    private: bool = False


class _HTTPError(Exception):
    """Raised by a handler step to answer ``status`` with ``message`` (and close the connection if asked)."""

    def __init__(self, status: int, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.close = status, message, close


def _safe(path: str, what: str) -> str:
    """``path`` unchanged if it stays inside a repo; else a 400 naming it."""
    bad = not isinstance(path, str) or path.startswith("/") or "\\" in path or re.match(r"^[A-Za-z]:", path)
    if bad or ".." in path.split("/"):
        raise _HTTPError(400, f"local hub: {what} {path!r} must be relative, without '..' or backslashes")
    return path


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # keep test output quiet
        self.server.hub.requests.append(f"{self.command} {self.path}")

    # --- plumbing -------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        self._json(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message} if code else
                   {"X-Error-Message": message})

    def _body(self) -> bytes:
        raw = self.headers.get("Content-Length") or "0"
        if not raw.strip().isdigit():
            raise _HTTPError(400, f"local hub: Content-Length must be a non-negative integer, got {raw!r}", close=True)
        n, limit = int(raw), self.server.hub.max_body
        if n > limit:
            raise _HTTPError(413, f"local hub: body of {n} bytes is over the {limit}-byte limit", close=True)
        try:
            data = self.rfile.read(n) if n else b""
        except TimeoutError:
            data = b""
        if len(data) != n:
            raise _HTTPError(400, f"local hub: body ended after {len(data)} of {n} bytes", close=True)
        return data

    def _readable(self, r: _Repo | None) -> bool:
        """Public repos are served to everyone, private ones only with a valid token."""
        return r is not None and (not r.private or "Authorization" in self.headers and self._authorised())

    def _authorised(self) -> bool:
        token = self.server.hub.token
        if token is None:
            return True
        return self.headers.get("Authorization", "") == f"Bearer {token}"

    def setup(self) -> None:
        self.timeout = self.server.hub.request_timeout  # a stalled client cannot hold a handler thread
        super().setup()

    def _dispatch(self) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        for method, pattern, name in _ROUTES:
            if method == self.command and (m := pattern.match(path)):
                try:
                    args = m.groupdict()
                    for key in ("repo", "path"):
                        if args.get(key):
                            _safe(args[key], key)
                    getattr(self, f"_do_{name}")(**args)
                except _HTTPError as err:
                    self.close_connection = self.close_connection or err.close
                    self._error(err.status, err.message)
                except Exception as err:  # noqa: BLE001 - report server bugs as HTTP 500
                    self._error(500, f"local hub error: {type(err).__name__}: {err}")
                return
        self._error(404, f"local hub: no route for {self.command} {path}")

    do_GET = do_POST = do_HEAD = _dispatch

    # --- endpoints ------------------------------------------------------------------------
    def _repo(self, repo: str, type_: str | None) -> _Repo | None:
        """The repo if it exists with this type and this client may read it (else None: a 404)."""
        type_ = (type_ or "models").strip("/")
        r = self.server.hub.repos.get(repo)
        return r if self._readable(r) and r.repo_type + "s" == type_ else None

    def _do_whoami(self) -> None:
        if not self._authorised() or self.server.hub.token is None and "Authorization" not in self.headers:
            return self._error(401, "Invalid credentials in Authorization header")
        user = self.server.hub.user
        self._json(200, {"type": "user", "name": user, "fullname": user, "orgs": [],
                         "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": "write"}}})

    def _do_create_repo(self) -> None:
        if not self._authorised():
            return self._error(401, "Invalid credentials in Authorization header")
        payload = json.loads(self._body() or b"{}")
        name, org = payload.get("name"), payload.get("organization") or self.server.hub.user
        repo_type = payload.get("type") or "model"
        repo_id = f"{_safe(str(org), 'organization')}/{_safe(str(name), 'repo name')}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.server.hub.endpoint}/{prefix}{repo_id}"
        with self.server.hub.lock:
            if repo_id in self.server.hub.repos:
                return self._json(409, {"error": "You already created this repo", "url": url})
            self.server.hub.repos[repo_id] = _Repo(repo_type=repo_type, private=bool(payload.get("private")))
        self._json(200, {"url": url, "name": repo_id})

    def _do_validate_yaml(self) -> None:
        payload = json.loads(self._body() or b"{}")
        if not isinstance(payload.get("content"), str):
            return self._json(400, {"errors": [{"message": "content must be a string"}], "warnings": []})
        self._json(200, {"errors": [], "warnings": []})

    def _do_preupload(self, type: str, repo: str, rev: str) -> None:
        if self._repo(repo, type) is None:
            return self._error(404, f"Repository {repo} not found", "RepoNotFound")
        payload = json.loads(self._body() or b"{}")
        files = [{"path": _safe(f["path"], "path"), "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                 for f in payload.get("files", [])]
        self._json(200, {"files": files, "commitOid": self._repo(repo, type).sha})

    def _do_commit(self, type: str, repo: str, rev: str) -> None:
        if not self._authorised():
            return self._error(401, "Invalid credentials in Authorization header")
        r = self._repo(repo, type)
        if r is None:
            return self._error(404, f"Repository {repo} not found", "RepoNotFound")
        summary = ""
        staged = dict(r.files)
        for line in self._body().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                summary = value.get("summary", "")
            elif key == "file":
                raw = value["content"]
                data = base64.b64decode(raw) if value.get("encoding") == "base64" else raw.encode()
                staged[_safe(value["path"], "path")] = data
            elif key == "deletedFile":
                staged.pop(_safe(value["path"], "path"), None)
            elif key == "deletedFolder":
                prefix = _safe(value["path"], "path").rstrip("/") + "/"
                staged = {p: b for p, b in staged.items() if not p.startswith(prefix)}
            else:
                return self._error(400, f"local hub does not support commit operation {key!r}")
        with self.server.hub.lock:
            r.files = staged
            r.sha = hashlib.sha1(f"{repo}{time.time_ns()}{summary}{len(r.commits)}".encode()).hexdigest()
            r.commits.append(r.sha)
        prefix = "" if r.repo_type == "model" else f"{r.repo_type}s/"
        self._json(200, {"commitUrl": f"{self.server.hub.endpoint}/{prefix}{repo}/commit/{r.sha}",
                         "commitOid": r.sha, "pullRequestUrl": None, "success": True})

    def _entry(self, path: str, data: bytes) -> dict[str, Any]:
        return {"type": "file", "path": path, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}

    def _do_paths_info(self, type: str, repo: str, rev: str) -> None:
        r = self._repo(repo, type)
        if r is None:
            return self._error(404, f"Repository {repo} not found", "RepoNotFound")
        body = self._body().decode()
        try:
            paths = json.loads(body).get("paths", [])
        except json.JSONDecodeError:
            from urllib.parse import parse_qs
            paths = parse_qs(body).get("paths", [])
        self._json(200, [self._entry(p, r.files[p]) for p in paths if _safe(p, "path") in r.files])

    def _do_tree(self, type: str, repo: str, rev: str, path: str | None = None) -> None:
        r = self._repo(repo, type)
        if r is None:
            return self._error(404, f"Repository {repo} not found", "RepoNotFound")
        prefix = (path or "").strip("/")
        entries = [self._entry(p, d) for p, d in sorted(r.files.items())
                   if not prefix or p.startswith(prefix + "/")]
        self._json(200, entries)

    def _do_repo_info(self, type: str, repo: str, rev: str | None = None) -> None:
        r = self._repo(repo, type)
        if r is None:
            return self._error(404, f"Repository {repo} not found", "RepoNotFound")
        self._json(200, {"id": repo, "modelId": repo, "sha": r.sha, "private": r.private, "disabled": False,
                         "gated": False, "downloads": 0, "likes": 0, "tags": [],
                         "lastModified": "2025-01-01T00:00:00.000Z", "createdAt": "2025-01-01T00:00:00.000Z",
                         "siblings": [{"rfilename": p} for p in sorted(r.files)]})

    def _do_resolve(self, type: str | None, repo: str, rev: str, path: str) -> None:
        r = self._repo(repo, type)
        if r is None:
            return self._error(404, f"Repository {repo} not found", "RepoNotFound")
        if path not in r.files:
            return self._error(404, f"Entry {path} not found in {repo}", "EntryNotFound")
        data = r.files[path]
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        self._send(200, data, {"X-Repo-Commit": r.sha, "ETag": etag}, "application/octet-stream")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: LocalHubServer


class LocalHubServer:
    """Run the in-memory Hub on 127.0.0.1 in a background thread (context manager)."""

    def __init__(self, token: str | None = "hf_local_test_token", user: str = "test-user", port: int = 0,
                 max_body: int = 256 * 2**20, request_timeout: float = 10.0) -> None:
        self.token = token
        self.user = user
        self.max_body, self.request_timeout = max_body, request_timeout
        self.repos: dict[str, _Repo] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.hub = self
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """Base URL to use as HF_ENDPOINT."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def client_env(self) -> dict[str, str]:
        """Environment variables that point huggingface_hub at this server."""
        env = {"HF_ENDPOINT": self.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_OFFLINE": "0",
               "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_ENABLE_HF_TRANSFER": "0"}
        if self.token:
            env["HF_TOKEN"] = self.token
        return env

    def start(self) -> LocalHubServer:
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalHubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
