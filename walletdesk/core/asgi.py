"""An ASGI handler whose sync views keep their database connection between requests.

Django's stock handler enters a fresh `ThreadSensitiveContext` per request, so every request's
sync code runs in a new thread and opens a new database connection (which is why Django says
to turn persistent connections off under ASGI). Opening and closing SQLite per request costs
more than the request itself: closing the last connection of a WAL database checkpoints it.

Without the per-request context, asgiref runs thread-sensitive code on one long-lived thread
per process, so the connection lives as long as the process (CONN_MAX_AGE decides), and the
sync work of one process is serialised on that thread — which is what a 2-core box wants:
one busy process per core, no GIL thrash.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler


class PersistentASGIHandler(ASGIHandler):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


def get_asgi_application() -> PersistentASGIHandler:
    import django

    django.setup(set_prefix=False)
    return PersistentASGIHandler()
