"""An ASGI handler for a project of sync views: one hop into a worker thread per request.

Django's stock handler has two costs a sync project does not need:

- it enters a fresh `ThreadSensitiveContext` per request, so every request's sync code runs in
  a new thread and opens a new database connection (which is why Django says to turn
  persistent connections off under ASGI). Opening and closing SQLite per request costs more
  than the request itself: closing the last connection of a WAL database checkpoints it.
- it builds the middleware chain in async mode. With sync middleware that chain crosses
  between the event loop and the worker thread several times per request (into the outer
  middleware, back out for the async view resolver, in again for the view, and again for the
  `request_started`/`request_finished` receivers and `response.close()`). Each crossing is a
  future, a lock and a thread wake-up: a fifth of the CPU of a ticket creation, measured.

So this handler builds the chain in sync mode and runs everything between reading the body
and sending the response — the started signal, the whole chain and, for ordinary responses,
`close()` with its finished signal — in one call on a worker thread.

The worker threads are a small pool per process (`THREADS`), each with its own long-lived
database connection (CONN_MAX_AGE decides). Django's default under ASGI is one thread per
process for all sync code; with a pool, requests that wait — on the ticket writer's group
commit (tickets.intake), on the SQLite writer lock, on PostgreSQL — let the next request's
Python run meanwhile, and concurrent ticket creations can share one commit. The pool is small
because the GIL makes more threads pure overhead on a 2-core box: the parallelism is the
processes (core.serve), the threads only fill the waits.

Dropped on purpose: Django's disconnect listener, which cancels an *async* view when the client
goes away; a sync view cannot be cancelled anyway. An async view, if one is ever added, still
works: the sync chain runs it through `async_to_sync`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

THREADS = 8


class PersistentASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="web")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self._respond, thread_sensitive=False, executor=self._threads)(
                scope, body_file
            )
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    # Streamed content (attachments, documents) is read while sending, so its
                    # file closes only now.
                    await sync_to_async(response.close, thread_sensitive=False, executor=self._threads)()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """Everything sync about one request, on a worker thread."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
        assert response is not None  # create_request gives a request or an error response
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            # The body is already bytes: closing now (request_finished, connection upkeep)
            # saves a second trip to this thread after sending.
            response.close()
        return response


def get_asgi_application() -> PersistentASGIHandler:
    import django

    django.setup(set_prefix=False)
    return PersistentASGIHandler()
