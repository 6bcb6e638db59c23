"""A tiny in-memory Hugging Face Hub for offline tests and demos, speaking the HTTP subset that
`huggingface_hub` (and through it transformers' `push_to_hub` / `from_pretrained`) uses.

Usage::

    from hub_server import LocalHubServer
    with LocalHubServer(token="hf_test") as hub:
        env = hub.client_env()   # {"HF_ENDPOINT": ..., "HF_TOKEN": ..., "HF_HUB_DISABLE_XET": "1", ...}
        # run push_to_hub / from_pretrained in a process (or after patching huggingface_hub.constants) with env

Endpoints: whoami-v2, repos/create, validate-yaml, preupload (always answers "regular" upload mode so files travel inline,
no LFS/Xet), commit (NDJSON), repo info (+ /revision/<rev>), tree, paths-info, and HEAD/GET resolve for
models and datasets. Writes need `Authorization: Bearer <token>` when a token is set (401 otherwise), so
failure paths can be tested too. Not a security boundary: bind to localhost only.
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
    ("GET", re.compile(rf"^/api/(?P<type>models|datasets|spaces)/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$"), "tree"),
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


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
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
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _authorised(self) -> bool:
        token = self.server.hub.token
        if token is None:
            return True
        return self.headers.get("Authorization", "") == f"Bearer {token}"

    def _dispatch(self) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        for method, pattern, name in _ROUTES:
            if method == self.command and (m := pattern.match(path)):
                try:
                    getattr(self, f"_do_{name}")(**{k: v for k, v in m.groupdict().items()})
                except Exception as err:  # noqa: BLE001 - report server bugs as HTTP 500
                    self._error(500, f"local hub error: {type(err).__name__}: {err}")
                return
        self._error(404, f"local hub: no route for {self.command} {path}")

    do_GET = do_POST = do_HEAD = _dispatch

    # --- endpoints ------------------------------------------------------------------------
    def _repo(self, repo: str, type_: str | None) -> _Repo | None:
        type_ = (type_ or "models").strip("/")
        r = self.server.hub.repos.get(repo)
        return r if r is not None and r.repo_type + "s" == type_ else None

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
        repo_id = f"{org}/{name}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.server.hub.endpoint}/{prefix}{repo_id}"
        with self.server.hub.lock:
            if repo_id in self.server.hub.repos:
                return self._json(409, {"error": "You already created this repo", "url": url})
            self.server.hub.repos[repo_id] = _Repo(repo_type=repo_type)
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
        files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
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
                staged[value["path"]] = base64.b64decode(raw) if value.get("encoding") == "base64" else raw.encode()
            elif key == "deletedFile":
                staged.pop(value["path"], None)
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
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
        self._json(200, [self._entry(p, r.files[p]) for p in paths if p in r.files])

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
        self._json(200, {"id": repo, "modelId": repo, "sha": r.sha, "private": False, "disabled": False,
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
    hub: "LocalHubServer"


class LocalHubServer:
    """Run the in-memory Hub on 127.0.0.1 in a background thread (context manager)."""

    def __init__(self, token: str | None = "hf_local_test_token", user: str = "test-user", port: int = 0) -> None:
        self.token = token
        self.user = user
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

    def start(self) -> "LocalHubServer":
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "LocalHubServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
