"""A response whose body is known only when some other thread finishes: group commit.

A view that hands its write to a writer thread (tickets.intake) returns `DeferredResponse`
instead of waiting: the request's thread is free at once for the next request, which is what
lets the writer find several requests waiting and commit them together. The ASGI handler
(core.asgi) awaits the future on the event loop, then calls `finish()` to fill in the body.

Only the ASGI handler can wait like that; a view asks `can_defer(request)` first and otherwise
does its work inline (the test client, management commands).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from concurrent.futures import Future
from typing import Any

from django.http import HttpRequest, HttpResponse

SCOPE_KEY = "walletdesk.deferred_responses"


def can_defer(request: HttpRequest) -> bool:
    scope = getattr(request, "scope", None)
    return bool(scope and scope.get(SCOPE_KEY))


class DeferredResponse(HttpResponse):
    """Headers now (middleware sees them as usual); status and body from the final response.

    The future's result is that final response, rendered by whoever completed the work (with
    database access, which the event loop does not have); its status, body and content type
    are copied over, and the headers middleware added here are kept.
    """

    def __init__(self, future: Future[HttpResponse]) -> None:
        super().__init__(status=202, content_type="application/json")
        self.future = future

    def finish(self) -> None:
        final = self.future.result()
        self.status_code = final.status_code
        self.reason_phrase = final.reason_phrase
        self.content = final.content
        self["Content-Type"] = final["Content-Type"]
        if "Retry-After" in final:  # a 429 or 503 tells the client when to come back
            self["Retry-After"] = final["Retry-After"]
        self["Content-Length"] = str(len(self.content))


class _Wakeups:
    """Futures completed by other threads, handed to one event loop a batch at a time.

    `asyncio.wrap_future` wakes the loop once per future (`call_soon_threadsafe`); the ticket
    writer completes a whole batch at once, and those per-future wake-ups were 7% of a web
    process's CPU at 32 clients, measured. Here the first completion schedules one drain and the
    rest of the batch joins it.
    """

    def __init__(self) -> None:
        # No reference to the loop here: it is this entry's weak key.
        self._lock = threading.Lock()
        self._ready: list[tuple[asyncio.Future[Any], Future[Any]]] = []

    def post(self, loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[Any], future: Future[Any]) -> None:
        with self._lock:
            self._ready.append((waiter, future))
            first = len(self._ready) == 1
        if first:
            loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for waiter, future in ready:
            if waiter.cancelled():
                continue
            error = future.exception()
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(future.result())


# Weak: a loop that is gone (a test's, say) takes its entry with it.
_wakeups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Wakeups] = weakref.WeakKeyDictionary()


def wait(future: Future[Any]) -> asyncio.Future[Any]:
    """`asyncio.wrap_future(future)` for the running loop, woken once per batch of completions."""
    loop = asyncio.get_running_loop()
    wakeups = _wakeups.get(loop)
    if wakeups is None:
        wakeups = _wakeups[loop] = _Wakeups()
    waiter: asyncio.Future[Any] = loop.create_future()
    future.add_done_callback(lambda done: wakeups.post(loop, waiter, done))
    return waiter
