"""A local HTTP server standing in for a provider's API (Telegram, WeChat, X, Weibo).

It records every request (method, path, query, headers, body) and answers from handlers the
test gives, by path; a handler may be a list of scripted answers, used in turn (the last one
repeats), to make the provider fail and then recover:

    with StandIn({"/bot123:abc/sendMessage": [(500, {"ok": False}), (200, {"ok": True, ...})]}) as api:
        ... api.base_url ...
        api.requests_to("/bot123:abc/sendMessage")  # what we sent

A handler may also be a callable taking the Recorded request and returning (status, body[,
headers]). A body that is a dict or list is sent as JSON; bytes and str as they are.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]
Handler = Answer | list[Answer] | Callable[["Recorded"], Answer]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StandIn:
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    default: Answer = (404, {"ok": False, "description": "Not Found"})

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, int] = {}

    def __enter__(self) -> StandIn:
        stand_in = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                stand_in._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _answer(self, recorded: Recorded) -> Answer:
        handler = self.routes.get(recorded.path)
        if handler is None:
            return self.default
        if callable(handler):
            return handler(recorded)
        if isinstance(handler, list):
            with self._lock:
                used = self._used.get(recorded.path, 0)
                self._used[recorded.path] = used + 1
            return handler[min(used, len(handler) - 1)]
        return handler

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        recorded = Recorded(
            request.command,
            parts.path,
            parse_qs(parts.query),
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(recorded)
        answer = self._answer(recorded)
        status, payload = answer[0], answer[1]
        headers = dict(answer[2]) if len(answer) > 2 else {}
        if isinstance(payload, (dict, list)):
            data, content_type = json.dumps(payload).encode(), "application/json"
        elif isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, content_type = bytes(payload), "application/octet-stream"
        request.send_response(status)
        request.send_header("Content-Type", headers.pop("Content-Type", content_type))
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.requests_to(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path}: {len(self.requests_to(path))} requests, wanted {count}")
