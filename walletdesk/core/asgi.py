"""An ASGI handler for a project of sync views: one hop into a sync thread per request.

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

Those are a few long-lived threads per process (`_SyncPool`, in place of asgiref's
thread-sensitive executor, `WEB_THREADS` of them), so their database connections persist
(CONN_MAX_AGE decides). The parallelism of Python work is the processes (core.serve); the
threads are there so that a request waiting on the database (a round trip, a row lock, SQLite's
writer lock) does not hold up every other request of its process (see `_SyncPool`).

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
import itertools
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
            response = await _sync_pool.run(self._respond, scope, body_file)
            if isinstance(response, DeferredResponse):
                # The view handed its work to another thread. The sync thread answers only once
                # that work is done (see _SyncPool), so this wait is normally already over.
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
                    await _sync_pool.run(response.close)

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """Everything sync about one request, on one of the process's sync threads."""
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


class _SyncPool:
    """The process's few long-lived threads for sync work, fed from the event loop.

    What asgiref's `sync_to_async(thread_sensitive=True)` gives outside `async_to_sync`:
    long-lived threads, so their database connections persist, and the caller's context
    variables. What it does not do: wake the event loop once per call. asgiref resolves an
    asyncio future from the thread for every request, a `call_soon_threadsafe` each — on this
    2-core VM a wake-up of the other core that cost 6.7% of a web process's CPU at 32 clients,
    measured. Here completions go through `deferred.wait`, so requests finished while the loop
    was busy share one wake-up. A `DeferredResponse` (a ticket handed to the group-commit writer)
    is handed back only when its work is done: the loop is then woken once for the writer's
    whole batch, not once per request for the hand-off and again for the batch. Context changes
    made by the sync code stay in its copy, which nothing reads after the response is built.

    Why several threads and not one (#23, bench/load.py): with one thread, every request of the
    process queued behind whatever the one in progress was waiting for. On PostgreSQL that is
    each statement's round trip (half the thread's time under the mixed load, py-spy: psycopg's
    `Connection.wait`), and sometimes a row lock held by a task worker, or the SQLite writer
    lock held by the other process: the agents' inbox polls, the customers' pages and the chat
    sockets' database work all waited in that one line while the process had CPU to spare. A
    thread waiting on the database holds no GIL, so another request runs meanwhile. Few threads,
    not one per request: Python work still runs one thread at a time per process, and each
    thread keeps a database connection open (`WEB_THREADS`, see settings).
    """

    def __init__(self, size: int | None = None) -> None:
        self._queue: queue.SimpleQueue[
            tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...], Future[Any]]
        ]
        self._queue = queue.SimpleQueue()
        self._size = size
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._served = itertools.count(1)

    @property
    def size(self) -> int:
        if self._size is None:
            from django.conf import settings

            self._size = max(1, int(settings.WEB_THREADS))
        return self._size

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await deferred.wait(self._submit(fn, *args))

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((contextvars.copy_context(), fn, args, future))
        if not self._threads:
            self._start()
        return future

    def run_on_every_thread(self, fn: Callable[[], Any]) -> None:
        """`fn` once on each thread (to close each one's database connection), waiting here for
        all of them; nothing if no thread was started yet. Blocking and without an event loop:
        its callers are tests, some inside a running loop of their own (Playwright's sync API),
        where `asyncio.run` refuses to start another."""
        threads = self._threads
        if not threads:
            return
        # Each thread takes one call and waits at the barrier, so no thread can take two.
        barrier = threading.Barrier(len(threads))

        def once() -> None:
            try:
                fn()
            finally:
                barrier.wait(timeout=60)  # a thread stuck in a request breaks it, not hangs all

        for future in [self._submit(once) for _ in threads]:
            future.result(timeout=120)

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            threads = [
                threading.Thread(target=self._serve, name=f"sync-requests-{n}", daemon=True)
                for n in range(self.size)
            ]
            for thread in threads:
                thread.start()
            self._threads = threads

    def _serve(self) -> None:
        while True:
            context, fn, args, future = self._queue.get()
            # The count is shared by the threads (next() on a count is atomic under the GIL).
            if next(self._served) == warmup.SETTLE_AFTER:
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


_sync_pool = _SyncPool()


async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Run sync code (the ORM) from a websocket consumer on the process's sync threads, as
    requests do: their database connections are the ones they keep open."""
    return await _sync_pool.run(fn, *args)


def close_connections() -> None:
    """Close every sync thread's database connections (tests: PostgreSQL refuses to drop a
    database with connections open)."""
    from django.db import connections

    _sync_pool.run_on_every_thread(connections.close_all)


def get_asgi_application() -> PersistentASGIHandler:
    import django

    django.setup(set_prefix=False)
    return PersistentASGIHandler()
