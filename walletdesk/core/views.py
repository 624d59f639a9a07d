"""Liveness (`/healthz`), readiness (`/readyz`) and the answer when the database cannot serve.

`/healthz` says only that the process answers: it touches nothing, so a load balancer never
restarts a healthy web process because the database is busy. `/readyz` says whether this
instance can do its job: a real write, free disk, the worker keeping up, the mailboxes. A read
is not enough: a full disk or a write-locked SQLite file still answers `SELECT 1`.

What failed and why is shown only to a signed-in agent or to a caller bearing `READYZ_TOKEN`;
everyone else gets {"status": "ok"|"fail"}: mailbox names, errors and queue figures are
internals.
"""

from __future__ import annotations

import errno
import hmac
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from walletdesk.core.agents import is_agent

# Apps add their own checks from AppConfig.ready() (core imports no app). A check returns a
# dict with "ok" and any detail; a failing check makes /readyz answer 503.
HEALTH_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {}

# HOOK for the worker's heartbeat (crash-safe work, issue 16 §5): a function returning when the
# task worker last reported alive, or None if it never did. Until one is registered, /readyz
# judges the worker by the queue's lag alone (a stalled worker lets due tasks pile up).
WORKER_HEARTBEAT: list[Callable[[], datetime | None]] = []


def register_health_check(name: str, check: Callable[[], dict[str, Any]]) -> None:
    HEALTH_CHECKS[name] = check


def register_worker_heartbeat(last_seen: Callable[[], datetime | None]) -> None:
    WORKER_HEARTBEAT[:] = [last_seen]


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness only: the process runs and answers. No database, no internals."""
    return HttpResponse("ok", content_type="text/plain")


# --- readiness checks ----------------------------------------------------------------------------


def _write_sqlite(now: datetime) -> None:
    # Its own short-lived connection with a short busy timeout: the process's connection waits
    # up to its full timeout for a lock (and queues on the writer flock), and a probe must
    # answer fast precisely when a writer is stuck.
    path = str(settings.DATABASES["default"]["NAME"])
    probe = sqlite3.connect(path, timeout=settings.READYZ_DB_TIMEOUT, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute(
            "INSERT INTO core_healthprobe (name, written_at) VALUES ('readyz', ?) "
            "ON CONFLICT (name) DO UPDATE SET written_at = excluded.written_at",
            (now.isoformat(),),
        )
        probe.execute("COMMIT")
    finally:
        probe.close()


def _write_here(now: datetime) -> None:
    ms = int(settings.READYZ_DB_TIMEOUT * 1000)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A held lock or a stuck server answers within the probe's time, not a client's.
            cursor.execute(f"SET LOCAL lock_timeout = {ms}")
            cursor.execute(f"SET LOCAL statement_timeout = {ms * 2}")
        cursor.execute(
            "INSERT INTO core_healthprobe (name, written_at) VALUES ('readyz', %s) "
            "ON CONFLICT (name) DO UPDATE SET written_at = excluded.written_at",
            [now],
        )


def check_database_write() -> dict[str, Any]:
    started = time.perf_counter()
    now = timezone.now()
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():  # type: ignore[attr-defined]
        _write_sqlite(now)
    else:
        _write_here(now)  # PostgreSQL (or a test's in-memory SQLite)
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_disk() -> dict[str, Any]:
    need = settings.READYZ_MIN_FREE_MB
    places = {"data": settings.DATA_DIR}
    if str(settings.MEDIA_ROOT) and not str(settings.MEDIA_ROOT).startswith(str(settings.DATA_DIR)):
        places["media"] = settings.MEDIA_ROOT
    result: dict[str, Any] = {"ok": True, "min_free_mb": need}
    for name, place in places.items():
        free_mb = shutil.disk_usage(place).free // (1024 * 1024)
        result[f"{name}_free_mb"] = free_mb
        if free_mb < need:
            result["ok"] = False
            result["error"] = f"{name} directory has {free_mb} MB free, below {need} MB"
    return result


def oldest_due_task(now: datetime) -> datetime | None:
    """When the longest-waiting due task became due (django-tasks-db's table)."""
    from django.db.models import Min
    from django_tasks_db.models import DBTaskResult, get_date_max

    ready = DBTaskResult.objects.filter(status="READY")
    # `Task.enqueue` without a delay stores "date max" (due since it was enqueued);
    # core.queue stores the enqueue time itself.
    undated = ready.filter(run_after=get_date_max()).aggregate(at=Min("enqueued_at"))["at"]
    dated = ready.filter(run_after__lte=now).aggregate(at=Min("run_after"))["at"]
    due = [t for t in (undated, dated) if t is not None]
    return min(due) if due else None


def check_worker() -> dict[str, Any]:
    now = timezone.now()
    result: dict[str, Any] = {"ok": True}
    oldest = oldest_due_task(now)
    lag = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    result["queue_lag_seconds"] = round(lag, 1)
    if lag > settings.READYZ_MAX_QUEUE_LAG_SECONDS:
        result["ok"] = False
        result["error"] = (
            f"the oldest due task has waited {lag:.0f} s (limit {settings.READYZ_MAX_QUEUE_LAG_SECONDS} s)"
        )
    if WORKER_HEARTBEAT:
        seen = WORKER_HEARTBEAT[0]()
        silence = (now - seen).total_seconds() if seen else None
        result["heartbeat_age_seconds"] = round(silence, 1) if silence is not None else None
        if silence is None:
            # No worker row: none has started, or the last one stopped cleanly. Due tasks then
            # pile up, and the queue lag above fails the check.
            result["heartbeat"] = "no worker has reported (judged by queue lag)"
        elif silence > settings.READYZ_MAX_WORKER_SILENCE_SECONDS:
            result["ok"] = False
            result["error"] = f"worker silent for {silence:.0f} s"
    else:
        result["heartbeat"] = "not reported (judged by queue lag)"
    return result


CORE_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database_write": check_database_write,
    "disk": check_disk,
    "worker": check_worker,
}


def may_see_detail(request: HttpRequest) -> bool:
    token = settings.READYZ_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.lower().startswith("bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    return is_agent(getattr(request, "user", None))


def run_checks() -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    ok = True
    for name, check in {**CORE_CHECKS, **HEALTH_CHECKS}.items():
        try:
            result = check()
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        checks[name] = result
        ok = ok and bool(result.get("ok"))
    return ok, checks


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    ok, checks = run_checks()
    body: dict[str, Any] = {"status": "ok" if ok else "fail"}
    if may_see_detail(request):
        body["checks"] = checks
    response = JsonResponse(body, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = str(settings.RETRY_AFTER_SECONDS)
    return response


# --- when the database cannot serve --------------------------------------------------------------

# SQLite says what went wrong only in the message; "no such table" is a bug, not an outage.
_SQLITE_OUTAGES = (
    "database is locked",
    "database table is locked",
    "database or disk is full",
    "disk i/o error",
    "unable to open database",
)
# PostgreSQL SQLSTATEs: connection (08), insufficient resources (53: disk full, out of memory,
# too many connections), lock_not_available, query_canceled (statement/lock timeout), shutdown
# (57P0x), serialization failure and deadlock (retryable by definition).
_PG_OUTAGES = ("08", "53", "55P03", "57014", "57P0", "40001", "40P01")


# A full disk or quota, a file over RLIMIT_FSIZE, a file system remounted read-only: writing a
# file (an attachment, an identity document) failed for want of space, not because of the request.
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


def is_outage(exc: BaseException | None) -> bool:
    """True for database or disk errors that mean "try again later", not "this request is wrong"."""
    from django.db import InterfaceError, OperationalError

    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
            return True
        if isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError | sqlite3.OperationalError):
            cause = exc.__cause__
            state = getattr(cause, "sqlstate", None) or getattr(exc, "sqlstate", None)
            if state:
                return str(state).startswith(_PG_OUTAGES)
            message = str(exc).lower()
            if any(m in message for m in _SQLITE_OUTAGES):
                return True
            # psycopg reports a lost or refused connection with no SQLSTATE.
            return cause is not None and "connect" in str(cause).lower()
        exc = exc.__cause__ if exc.__cause__ is not exc else None
    return False


def unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a page in both languages elsewhere."""
    retry = str(settings.RETRY_AFTER_SECONDS)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "code": "unavailable",
                "message": "The service is briefly unable to save or read data. Nothing was lost; "
                "please try again shortly.",
                "field": None,
                "retry_after": int(retry),
            },
            status=503,
        )
    else:
        from django.template.loader import render_to_string

        try:
            # No request context: the page must render without the database (no user, no session).
            html: str = render_to_string("core/unavailable.html", {"retry_after": retry})
        except Exception:
            html = _PLAIN_UNAVAILABLE
        response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = retry
    response["Cache-Control"] = "no-store"
    return response


_PLAIN_UNAVAILABLE = (
    "<!doctype html><title>503</title><h1>Temporarily unavailable · 暂时无法服务</h1>"
    "<p>Please try again in a minute. 请稍后再试。</p>"
)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an outage anywhere (a middleware's session read included) answers 503."""
    if is_outage(sys.exc_info()[1]):
        return unavailable(request)
    from django.views.defaults import server_error as default

    return default(request)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape (walletdesk.core.metrics): only with `Authorization: Bearer $METRICS_TOKEN`.

    No token configured: the page does not exist (404), so an install that never set one shows
    nothing. No or another scheme: 401 with a challenge; a wrong token: 403. The figures are
    internals (queue lag, failure counts), not a ticket's content, but they still tell an
    attacker how the desk is doing. Never cached (`never_cache`): each scrape is read fresh.
    """
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = HttpResponse("metrics need a bearer token\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return HttpResponse("wrong metrics token\n", status=403, content_type="text/plain")
    from walletdesk.core import metrics as figures

    body, content_type = figures.exposition()
    return HttpResponse(body, content_type=content_type)
