"""An ASGI handler for a project of sync views: one hop into the sync thread per request.

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

That thread is one long-lived thread per process (`_SyncThread`, in place of asgiref's
thread-sensitive executor), so its database connection persists (CONN_MAX_AGE decides) and the
sync work of one process is serialised on it — what a 2-core box wants: one busy Python thread
per process, no GIL thrash. The parallelism is the processes (core.serve).

A view may return a `core.deferred.DeferredResponse` (ticket creation does, see tickets.intake):
its work was handed to another thread, and the handler awaits that on the event loop before
sending, so the sync thread goes on to the next request meanwhile. Requests are told they may
do this by a key in their ASGI scope.

Dropped on purpose: Django's disconnect listener, which cancels an *async* view when the client
goes away; a sync view cannot be cancelled anyway. An async view, if one is ever added, still
works: the sync chain runs it through `async_to_sync`.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import closing
from functools import partial
from typing import Any

from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase, HttpResponseServerError
from django.urls import set_script_prefix

from walletdesk.core import deferred, warmup
from walletdesk.core.deferred import SCOPE_KEY, DeferredResponse

logger = logging.getLogger(__name__)


class PersistentASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

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
            scope = {**scope, SCOPE_KEY: True}
            response = await _sync_thread.run(self._respond, scope, body_file)
            if isinstance(response, DeferredResponse):
                # The view handed its work to another thread. The sync thread answers only once
                # that work is done (see _SyncThread), so this wait is normally already over.
                if not response.future.done():
                    await deferred.wait(response.future)
                try:
                    response.finish()
                except Exception:
                    logger.exception("a deferred response failed")
                    response = HttpResponseServerError("Internal Server Error", content_type="text/plain")
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    # Streamed content (attachments, documents) is read while sending, so its
                    # file closes only now.
                    await _sync_thread.run(response.close)

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """Everything sync about one request, on the process's sync thread."""
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


class _SyncThread:
    """The process's one thread for sync work, fed from the event loop.

    What asgiref's `sync_to_async(thread_sensitive=True)` gives outside `async_to_sync`: one
    long-lived thread, so its database connection persists, and the caller's context variables.
    What it does not do: wake the event loop once per call. asgiref resolves an asyncio future
    from the thread for every request, a `call_soon_threadsafe` each — on this 2-core VM a
    wake-up of the other core that cost 6.7% of a web process's CPU at 32 clients, measured.
    Here completions go through `deferred.wait`, so requests finished while the loop was busy
    share one wake-up. A `DeferredResponse` (a ticket handed to the group-commit writer) is
    handed back only when its work is done: the loop is then woken once for the writer's whole
    batch, not once per request for the hand-off and again for the batch. Context changes made
    by the sync code stay in its copy, which nothing reads after the response is built.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[
            tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...], Future[Any]]
        ]
        self._queue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        future: Future[Any] = Future()
        self._queue.put((contextvars.copy_context(), fn, args, future))
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._serve, name="sync-requests", daemon=True)
                    self._thread.start()
        return await deferred.wait(future)

    def _serve(self) -> None:
        served = 0
        while True:
            context, fn, args, future = self._queue.get()
            served += 1
            if served == warmup.SETTLE_AFTER:
                warmup.settle()
            try:
                result = context.run(fn, *args)
            except BaseException as exc:  # handed to the awaiting request, as asgiref does
                future.set_exception(exc)
                continue
            if isinstance(result, DeferredResponse):
                result.future.add_done_callback(partial(_hand_over, future, result))
            else:
                future.set_result(result)


def _hand_over(future: Future[Any], result: Any, _done: Future[Any]) -> None:
    future.set_result(result)


_sync_thread = _SyncThread()


async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Run sync code (the ORM) from a websocket consumer on the process's one sync thread, as
    requests do: its database connection is the one they keep open."""
    return await _sync_thread.run(fn, *args)


def get_asgi_application() -> PersistentASGIHandler:
    import django

    django.setup(set_prefix=False)
    return PersistentASGIHandler()
