"""Waiting on the event loop for work finished by another thread (the ticket writer)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

import pytest

from walletdesk.core import deferred


def test_a_batch_completed_by_another_thread_reaches_every_waiter() -> None:
    """Results and errors both arrive, each at its own waiter, and a waiter whose request
    went away (cancelled) does not stop the others."""

    async def run() -> list[Any]:
        futures: list[Future[Any]] = [Future() for _ in range(40)]
        waiters = [deferred.wait(f) for f in futures]
        waiters[7].cancel()

        def writer() -> None:
            for n, future in enumerate(futures):
                if n % 10 == 3:
                    future.set_exception(ValueError(f"ticket {n} refused"))
                else:
                    future.set_result(n)

        threading.Thread(target=writer).start()
        return await asyncio.gather(*waiters, return_exceptions=True)

    outcomes = asyncio.run(run())
    for n, outcome in enumerate(outcomes):
        if n == 7:
            assert isinstance(outcome, asyncio.CancelledError)
        elif n % 10 == 3:
            assert isinstance(outcome, ValueError) and str(outcome) == f"ticket {n} refused"
        else:
            assert outcome == n


def _count_wakeups(monkeypatch: pytest.MonkeyPatch, loop: asyncio.AbstractEventLoop) -> list[int]:
    """From now on, count the loop's cross-thread wake-ups (`call_soon_threadsafe`) in [0]."""
    count = [0]
    real = loop.call_soon_threadsafe

    def counting(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    return count


def test_a_batch_wakes_the_loop_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Completed together (the writer resolves its batch in one go), the futures cost the
    loop one wake-up, not one each."""
    wakeups = [-1]

    async def run() -> list[Any]:
        nonlocal wakeups
        wakeups = _count_wakeups(monkeypatch, asyncio.get_running_loop())
        futures: list[Future[Any]] = [Future() for _ in range(25)]
        waiters = [deferred.wait(f) for f in futures]
        release = threading.Event()

        def writer() -> None:
            release.wait()
            for n, future in enumerate(futures):
                future.set_result(n)

        thread = threading.Thread(target=writer)
        thread.start()
        # The loop is busy (not draining) while the whole batch completes, as it is under load.
        release.set()
        thread.join()
        return await asyncio.gather(*waiters)

    assert asyncio.run(run()) == list(range(25))
    assert wakeups == [1]


def test_every_request_runs_on_the_long_lived_sync_threads_in_its_own_context() -> None:
    """The ASGI handler's sync work: a few long-lived threads (their database connections
    persist between requests), each call in a copy of the caller's context, results and errors
    delivered to the right caller even when many are in flight."""
    import contextvars

    from walletdesk.core.asgi import _sync_pool

    who: contextvars.ContextVar[str] = contextvars.ContextVar("who")

    def work(n: int) -> tuple[int, str, int]:
        if n == 5:
            raise LookupError("request 5 failed")
        return n, who.get(), threading.get_ident()

    async def one(n: int) -> Any:
        who.set(f"request {n}")
        return await _sync_pool.run(work, n)

    async def many() -> list[Any]:
        return await asyncio.gather(*(one(n) for n in range(20)), return_exceptions=True)

    first = asyncio.run(many())
    second = asyncio.run(many())  # a later loop, the same threads
    threads = set()
    for outcomes in (first, second):
        for n, outcome in enumerate(outcomes):
            if n == 5:
                assert isinstance(outcome, LookupError)
                continue
            assert outcome[:2] == (n, f"request {n}")
            threads.add(outcome[2])
    pool = {thread.ident for thread in _sync_pool._threads}
    assert threads <= pool and len(pool) == _sync_pool.size
    assert threading.get_ident() not in threads


def test_a_deferred_response_comes_back_once_its_batch_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """A view that hands its ticket to the writer returns a DeferredResponse at once, but the
    sync thread hands it to the loop only when the writer has finished it: a batch of requests
    then costs the loop one wake-up, not one for the hand-offs and another for the batch."""
    from django.http import HttpResponse

    from walletdesk.core.asgi import _sync_pool
    from walletdesk.core.deferred import DeferredResponse

    wakeups = [-1]
    futures: list[Future[Any]] = [Future() for _ in range(12)]
    handed = threading.Event()
    views_run: list[int] = []

    def view(n: int) -> DeferredResponse:
        views_run.append(n)  # on the sync threads, in any order
        if len(views_run) == len(futures):
            handed.set()
        return DeferredResponse(futures[n])

    async def run() -> list[Any]:
        nonlocal wakeups
        requests = [asyncio.ensure_future(_sync_pool.run(view, n)) for n in range(len(futures))]
        await asyncio.sleep(0)  # every request reaches the sync threads' queue
        assert handed.wait(timeout=10)
        await asyncio.sleep(0.05)  # the loop is free to take whatever the sync threads handed back
        assert not any(r.done() for r in requests), "handed back before its ticket was written"
        wakeups = _count_wakeups(monkeypatch, asyncio.get_running_loop())

        # The loop stays busy (here: blocked) while the writer completes the whole batch.
        def write_batch() -> None:
            for n, future in enumerate(futures):
                future.set_result(HttpResponse(str(n), status=201))

        writer = threading.Thread(target=write_batch)
        writer.start()
        writer.join()
        return await asyncio.gather(*requests)

    responses = asyncio.run(run())
    assert [r.future.result().content for r in responses] == [str(n).encode() for n in range(12)]
    assert all(r.future.done() for r in responses)
    assert wakeups == [1]
