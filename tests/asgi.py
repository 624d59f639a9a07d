"""One HTTP request through the real ASGI application, in-process: the path a request takes
in uvicorn (middleware, deferred responses, the sync threads), without a socket, so a test can
start many at once on one event loop and hold database locks around them."""

from __future__ import annotations

import asyncio
from typing import Any


async def request(
    method: str,
    path: str,
    raw: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    client: tuple[str, int] = ("127.0.0.1", 5555),
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Status, headers (lower-cased names) and body of the response to one request."""
    from walletdesk.asgi import application

    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": client,
        "server": ("testserver", 80),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # no disconnect
        return {}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], {k.lower(): v for k, v in sent[0]["headers"]}, body
