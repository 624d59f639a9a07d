"""Live updates: a change, once committed, pushed to the sockets that watch it.

Sockets (chat consumers, the desk's) join Django Channels groups; the code that changes
something calls `publish(group, event)` from ordinary sync code, usually inside the action's
transaction. The event leaves only when that transaction commits (a rolled-back reply must
never reach a screen), and never blocks the caller: it is queued, and the web process's event
loop sends it on (one wake-up for whatever queued meanwhile).

Two layers, as settings.CHANNEL_LAYERS says:

- **channels-redis** (scale mode): every process, web or task worker, reaches every socket
  through Redis. A process without a running event loop (the task worker, a command) sends
  from a small thread of its own.
- **the in-memory layer** (embedded mode) reaches only the sockets of its own process, and
  `walletdesk up` runs two web processes and a task worker. So here events also go through the
  database: a writer thread appends them to `core_livesignal` in batches, and every web
  process with sockets polls that table a few times a second and delivers what other
  processes wrote to its own groups. Signals are hints, kept two minutes. What must not be lost
  (a chat message) is in its own table already, and its consumer reads the gap from there.

Events are dicts for `group_send`: `{"type": "<handler name>", ...}`; JSON-serialisable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

logger = logging.getLogger(__name__)


def _new_origin() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


# This process, as the bridge table names it (a pid can be reused by the next process).
ORIGIN = _new_origin()
POLL_SECONDS = 0.2
KEEP_SECONDS = 120

Event = dict[str, Any]
Outgoing = tuple[str, Event]

_loop: asyncio.AbstractEventLoop | None = None
_outbox: list[Outgoing] = []
_outbox_lock = threading.Lock()
_bridge_queue: queue.SimpleQueue[Outgoing] = queue.SimpleQueue()
_bridge_thread: threading.Thread | None = None
_poller: asyncio.Task[None] | None = None
_sending: set[asyncio.Future[None]] = set()
_thread_sender: _ThreadSender | None = None


def _forked() -> None:
    """In a child just forked (core.serve forks the web processes from a warmed parent): a new
    origin, or every web process would carry the parent's and skip the others' bridged events
    as its own (seen: a new ticket did not reach an agent's inbox on the other web process),
    and none of the parent's loop, poller or bridge thread, which did not survive the fork."""
    global \
        ORIGIN, \
        _loop, \
        _bridge_queue, \
        _bridge_thread, \
        _poller, \
        _thread_sender, \
        _outbox, \
        _outbox_lock, \
        _sending
    ORIGIN = _new_origin()
    _loop = None
    _outbox = []
    _outbox_lock = threading.Lock()
    _bridge_queue = queue.SimpleQueue()
    _bridge_thread = None
    _poller = None
    _sending = set()
    _thread_sender = None


os.register_at_fork(after_in_child=_forked)


def in_memory() -> bool:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    return backend.endswith("InMemoryChannelLayer")


def layer_unreachable(exc: BaseException) -> bool:
    """True when `exc` (or its cause) says the channel layer's server cannot be reached: Redis
    down or unplugged. The site goes on without live updates; a socket is told so."""
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        return isinstance(exc, OSError)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RedisConnectionError | RedisTimeoutError | ConnectionError | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
        if seen is exc:
            break
    return False


def get_layer() -> Any:
    from channels.layers import get_channel_layer

    return get_channel_layer()


def publish(group: str, event: Event) -> None:
    """Send `event` to `group` once the current transaction commits (now, outside one)."""
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _send(group, event))
    else:
        _send(group, event)


def _send(group: str, event: Event) -> None:
    if in_memory() and settings.LIVE_BRIDGE:
        _bridge(group, event)
    loop = _loop
    if loop is not None and not loop.is_closed():
        with _outbox_lock:
            _outbox.append((group, event))
            first = len(_outbox) == 1
        if first:
            loop.call_soon_threadsafe(_drain_outbox)
    elif not in_memory():
        _sender().put(group, event)
    # In-memory and no loop in this process: no socket here to reach; the bridge carries it.


def _drain_outbox() -> None:
    with _outbox_lock:
        batch = _outbox[:]
        _outbox.clear()
    if batch:
        task = asyncio.ensure_future(_deliver(batch))
        _sending.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(_sending.discard)


async def _deliver(batch: list[Outgoing]) -> None:
    layer = get_layer()
    for group, event in batch:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.exception("live: sending to %s failed", group)


async def apublish(group: str, event: Event) -> None:
    """`publish` from async code (a consumer relaying typing or presence): sent now."""
    attach_loop()
    if in_memory() and settings.LIVE_BRIDGE:
        _bridge(group, event)
    await get_layer().group_send(group, event)


def attach_loop() -> None:
    """Called by every consumer as it connects: this process serves sockets, so events go
    through its loop, and (in-memory layer) it polls the bridge for other processes' events."""
    global _loop, _poller
    loop = asyncio.get_running_loop()
    if _loop is not loop:
        _loop = loop
        _poller = None
    if in_memory() and settings.LIVE_BRIDGE and (_poller is None or _poller.done()):
        _poller = loop.create_task(_poll_bridge())


# --- the bridge (in-memory layer): events through the database ---------------------------------


def _bridge(group: str, event: Event) -> None:
    global _bridge_thread
    _bridge_queue.put((group, event))
    if _bridge_thread is None or not _bridge_thread.is_alive():
        _bridge_thread = threading.Thread(target=_write_bridge, name="live-bridge", daemon=True)
        _bridge_thread.start()


def _write_bridge() -> None:
    from walletdesk.core.models import LiveSignal

    while True:
        batch = [_bridge_queue.get()]
        with contextlib.suppress(queue.Empty):
            while len(batch) < 500:
                batch.append(_bridge_queue.get_nowait())
        try:
            close_old_connections()
            LiveSignal.objects.bulk_create(
                LiveSignal(origin=ORIGIN, group_name=group, event=event) for group, event in batch
            )
        except Exception:
            logger.exception("live: the bridge lost %d event(s)", len(batch))


async def _poll_bridge() -> None:
    from walletdesk.core.asgi import run_sync

    last: int | None = None
    seen: set[int] = set()
    pruned = 0.0
    while True:
        try:
            last, rows, prune = await run_sync(_read_bridge, last, pruned)
            if prune:
                pruned = time.monotonic()
            layer = get_layer()
            for pk, origin, group, event in rows:
                if pk in seen:
                    continue
                seen.add(pk)
                if origin != ORIGIN:
                    await layer.group_send(group, event)
            if len(seen) > 5000:
                seen = {pk for pk in seen if last is not None and pk > last - 200}
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("live: polling the bridge failed")
        await asyncio.sleep(POLL_SECONDS)


def _read_bridge(last: int | None, pruned: float) -> tuple[int, list[tuple[int, str, str, Event]], bool]:
    from datetime import timedelta

    from django.db.models import Max
    from django.utils import timezone

    from walletdesk.core.models import LiveSignal

    if last is None:
        return LiveSignal.objects.aggregate(m=Max("id"))["m"] or 0, [], False
    # A window below the last id seen: on PostgreSQL a row with a lower id can commit after a
    # higher one, and would otherwise be skipped for good. `seen` drops the repeats.
    rows = list(
        LiveSignal.objects.filter(id__gt=max(0, last - 200))
        .order_by("id")
        .values_list("id", "origin", "group_name", "event")[:1000]
    )
    newest = max([last, *(r[0] for r in rows)])
    prune = time.monotonic() - pruned > 30
    if prune:
        LiveSignal.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=KEEP_SECONDS)).delete()
    return newest, rows, prune


# --- a process without a loop (task worker, commands), Redis layer ----------------------------


class _ThreadSender:
    """A daemon thread with its own event loop, for processes that have none."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-sender", daemon=True)
        self.thread.start()

    def put(self, group: str, event: Event) -> None:
        asyncio.run_coroutine_threadsafe(_deliver([(group, event)]), self.loop)


def _sender() -> _ThreadSender:
    global _thread_sender
    if _thread_sender is None:
        _thread_sender = _ThreadSender()
    return _thread_sender


def reset_for_tests() -> None:
    """Forget the loop and the poller (each async test runs its own event loop)."""
    global _loop, _poller
    if _poller is not None and _loop is not None and not _loop.is_closed():
        _loop.call_soon_threadsafe(_poller.cancel)
    _loop, _poller = None, None
