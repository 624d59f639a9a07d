"""Helpers for chat socket tests: a customer's and an agent's socket on the real ASGI app."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

from channels.testing import WebsocketCommunicator
from django.conf import settings

ORIGIN = settings.SITE_URL
HOST = urlsplit(ORIGIN).netloc


def app() -> Any:
    from walletdesk.asgi import application

    return application


def customer(ws_url: str, after: int | None = None) -> WebsocketCommunicator:
    path = ws_url + (f"&after={after}" if after is not None else "")
    return WebsocketCommunicator(app(), path, headers=[(b"host", HOST.encode())])


def agent(session_key: str | None, origin: str = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", origin.encode())]
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    return WebsocketCommunicator(app(), "/ws/chat/agent/", headers=headers)


async def frames_until(sock: WebsocketCommunicator, want: Any, timeout: float = 3.0) -> list[dict[str, Any]]:
    """Frames received until one satisfies `want` (included); fails on timeout."""
    got: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; got {got}")
        frame = json.loads(await sock.receive_from(timeout=left))
        got.append(frame)
        if want(frame):
            return got


async def quiet(sock: WebsocketCommunicator, seconds: float = 0.3) -> list[dict[str, Any]]:
    """Frames that arrive within `seconds` (none expected, usually)."""
    got = []
    # receive_nothing, not a receive with a timeout: asgiref cancels the app on a timeout.
    while not await sock.receive_nothing(timeout=seconds):
        got.append(json.loads(await sock.receive_from()))
    return got


def close_sync_connections() -> None:
    """Close the database connections of the process's sync threads (core.asgi), which the
    consumers used: left open, PostgreSQL refuses to drop the test database at the end."""
    from walletdesk.core.asgi import close_connections

    close_connections()


def inline_sync_work(monkeypatch: Any) -> None:
    """Run the consumers' database work on the test's own thread, in its connection.

    In a process the consumers hand it to the sync threads (core.asgi.run_sync), each with a
    connection of its own; in a test on SQLite's shared in-memory database that second
    connection's table locks made the transactional test's flush fail now and then ("database
    table is locked"). The real-server tests (test_widget_browser, the panel's, the live desk's)
    run the real thread.
    """
    from walletdesk.core import asgi

    async def inline(fn: Any, *args: Any) -> Any:
        return fn(*args)

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr(asgi._sync_pool, "run", inline)
