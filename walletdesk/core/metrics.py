"""Prometheus metrics, shared by every web and worker process of a machine, served at /metrics.

prometheus-client's multiprocess mode: each process writes its counters into small mmap'd files
under `METRICS_DIR` (default a folder in /dev/shm, set in settings before prometheus-client is
imported) and `/metrics`, served by whichever web process the scrape reaches, adds up the files of
all of them: N uvicorn processes and M `db_worker`s on one machine give one set of figures. An
increment is a lock and a write into a mapped page (about a microsecond), no system call.
On several machines, Prometheus scrapes each machine (each has its own directory); the queue
figures are read from the shared database at scrape time, so every machine reports the same.

The directory is emptied by `walletdesk up` before it starts its children (`reset_dir`): a
counter whose process is gone keeps its file so totals never go backwards while the set of
processes runs, and starting again starts from zero (Prometheus' `rate()` takes a reset in its
stride). Gauges of live things (open websockets) count only running processes: files of dead
ones are dropped at each scrape (`_drop_dead_gauges`).

Labels are bounded on purpose: a request's route is its URL pattern's name (never the path,
which carries ids and tracking tokens), its method one of the standard ones, a channel one of
the ticket channels. Nothing here reads a ticket, a message or an address.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from prometheus_client import values

# settings put PROMETHEUS_MULTIPROC_DIR in the environment before this module is imported; if
# prometheus-client was imported before that (a test runner, a library), pick the file-backed
# value class now: every metric below takes its class at creation.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(settings.METRICS_DIR)
values.ValueClass = values.MultiProcessValue()
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

NAMESPACE = "walletdesk"
_TIME_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route (URL pattern name), method and status.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching Django to its response being ready, by route.",
    ["route"],
    namespace=NAMESPACE,
    buckets=_TIME_BUCKETS,
    registry=None,
)
INBOUND = Counter(
    "inbound_messages",
    "Customer messages received (new tickets and replies), by channel; web form and API apart.",
    ["channel"],
    namespace=NAMESPACE,
    registry=None,
)
SLA_BREACHES = Counter(
    "sla_breaches",
    "SLA targets missed (the breach timer fired on a ticket still owing), by clock.",
    ["clock"],
    namespace=NAMESPACE,
    registry=None,
)
SLA_WARNINGS = Counter(
    "sla_at_risk",
    "SLA at-risk warnings sent, by clock.",
    ["clock"],
    namespace=NAMESPACE,
    registry=None,
)
OUTBOUND_MAIL = Counter(
    "outbound_mail",
    "Mails to customers attempted, by kind and result (sent; failed = will retry; "
    "undeliverable = gave up) and plain notices that failed.",
    ["kind", "result"],
    namespace=NAMESPACE,
    registry=None,
)
SOCKETS = Gauge(
    "websocket_connections",
    "Websocket connections open now, by socket (chat_customer, chat_agent, desk).",
    ["socket"],
    namespace=NAMESPACE,
    multiprocess_mode="livesum",
    registry=None,
)
SOCKETS_OPENED = Counter(
    "websocket_connections_opened",
    "Websocket connections accepted, by socket.",
    ["socket"],
    namespace=NAMESPACE,
    registry=None,
)
TASKS = Counter(
    "tasks",
    "Background tasks run by the workers, by task and outcome.",
    ["task", "status"],
    namespace=NAMESPACE,
    registry=None,
)
TASK_SECONDS = Histogram(
    "task_duration_seconds",
    "Time a background task ran, by task.",
    ["task"],
    namespace=NAMESPACE,
    buckets=_TIME_BUCKETS,
    registry=None,
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# One child per label set, looked up once: `.labels()` builds a key and takes a lock each call.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    # The method is folded first: made-up methods must not grow this cache or the series.
    key = (route, method if method in _METHODS else "other", status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(route, key[1], str(status)), REQUEST_SECONDS.labels(route))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def inbound(channels: Iterable[str]) -> None:
    for channel in channels:
        INBOUND.labels(channel).inc()


def sla_breached(clock: str) -> None:
    SLA_BREACHES.labels(clock).inc()


def sla_at_risk(clock: str) -> None:
    SLA_WARNINGS.labels(clock).inc()


def mail(kind: str, result: str) -> None:
    OUTBOUND_MAIL.labels(kind, result).inc()


def task_ran(task: str, status: str, seconds: float) -> None:
    TASKS.labels(task, status).inc()
    TASK_SECONDS.labels(task).observe(seconds)


# --- websockets --------------------------------------------------------------------------------

_SOCKET_KINDS = (("/ws/chat/agent/", "chat_agent"), ("/ws/chat/", "chat_customer"), ("/ws/desk/", "desk"))


def socket_kind(path: str) -> str:
    for prefix, kind in _SOCKET_KINDS:
        if path.startswith(prefix):
            return kind
    return "other"


ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]


def count_sockets(app: ASGIApp) -> ASGIApp:
    """Wrap the websocket router: a connection counts from its accept to the end of its consumer
    (a consumer returns once the socket is closed, whichever side closed it)."""

    async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = socket_kind(scope.get("path", ""))
        accepted = False

        async def sending(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message.get("type") == "websocket.accept" and not accepted:
                accepted = True
                SOCKETS.labels(kind).inc()
                SOCKETS_OPENED.labels(kind).inc()
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            if accepted:
                SOCKETS.labels(kind).dec()

    return counted


# --- the directory -----------------------------------------------------------------------------


def directory() -> Path:
    return Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def reset_dir(path: Path) -> None:
    """Empty the directory before a new set of processes starts (`walletdesk up`)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


_LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_dead_gauges(path: Path) -> None:
    """A killed process never decremented its open sockets: its live gauges stop counting."""
    for name in glob.glob(str(path / "gauge_live*_*.db")):
        match = _LIVE_FILE.search(os.path.basename(name))
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(name)


# --- scrape-time figures -----------------------------------------------------------------------


class QueueCollector:
    """The task queue from django-tasks-db's table, read when scraped: one grouped query over the
    ready rows that are due (the worker's claim index serves it), one count of running rows."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Case, Count, F, Min, Q, When
        from django.utils import timezone
        from django_tasks_db.models import DBTaskResult, get_date_max

        now = timezone.now()
        date_max = get_date_max()
        due = DBTaskResult.objects.filter(status="READY").filter(
            Q(run_after__lte=now) | Q(run_after=date_max)
        )
        rows = due.values("queue_name").annotate(
            n=Count("id"),
            oldest=Min(Case(When(run_after=date_max, then=F("enqueued_at")), default=F("run_after"))),
        )
        depth = GaugeMetricFamily(
            f"{NAMESPACE}_task_queue_depth", "Tasks due and waiting for a worker, by queue.", labels=["queue"]
        )
        lag = GaugeMetricFamily(
            f"{NAMESPACE}_task_queue_lag_seconds",
            "How long the oldest due task of each queue has waited (0 when none waits).",
            labels=["queue"],
        )
        seen = set()
        for row in rows:
            seen.add(row["queue_name"])
            depth.add_metric([row["queue_name"]], row["n"])
            waited = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
            lag.add_metric([row["queue_name"]], max(0.0, waited))
        for name in settings.TASKS["default"].get("QUEUES", []):
            if name not in seen:
                depth.add_metric([name], 0)
                lag.add_metric([name], 0.0)
        running = GaugeMetricFamily(f"{NAMESPACE}_tasks_running", "Tasks a worker is running now.")
        running.add_metric([], DBTaskResult.objects.filter(status="RUNNING").count())
        yield depth
        yield lag
        yield running


def exposition() -> tuple[bytes, str]:
    """The text every process's files add up to, with the queue figures."""
    path = directory()
    _drop_dead_gauges(path)
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=str(path))
    registry.register(QueueCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
