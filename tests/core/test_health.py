"""/healthz is liveness only; /readyz checks what can really break and tells only agents why.

Also: tracking-link and signed-in pages are never cached; public help pages still may be.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from walletdesk.connectors.email.models import Mailbox
from walletdesk.tickets.models import Ticket
from walletdesk.tickets.tracking import make_token

# Committed, not rolled back: /readyz writes its probe row on a connection of its own, as on a
# real SQLite file (the tests' database is one), which an open test transaction would lock out.
pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_is_liveness_only(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_readyz_passes_with_detail_only_for_agents_and_the_token(
    settings: Any, alice: Any, carol: Any
) -> None:
    settings.READYZ_TOKEN = "s3cret-probe-token"
    anonymous = Client().get("/readyz")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    agent = Client()
    agent.force_login(alice)
    checks = agent.get("/readyz").json()["checks"]
    assert set(checks) >= {"database_write", "disk", "worker", "email"}
    assert all(c["ok"] for c in checks.values())
    token = Client().get("/readyz", headers={"Authorization": "Bearer s3cret-probe-token"})
    assert "checks" in token.json()
    # A customer, a wrong token, an agent's API token shape: status only.
    customer = Client()
    customer.force_login(carol)
    for client, headers in (
        (customer, {}),
        (Client(), {"Authorization": "Bearer s3cret-probe-tokeN"}),
        (Client(), {"Authorization": "Bearer "}),
    ):
        assert client.get("/readyz", headers=headers).json() == {"status": "ok"}


def test_readyz_fails_on_a_broken_mailbox_and_hides_which_from_anonymous(alice: Any) -> None:
    Mailbox.objects.create(
        name="support-cn",
        host="imap.example.test",
        username="u",
        last_polled_at=timezone.now(),
        last_error_at=timezone.now(),
        last_error="LOGIN failed for support-cn",
    )
    anonymous = Client().get("/readyz")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "fail"}
    assert b"support-cn" not in anonymous.content and b"LOGIN" not in anonymous.content
    agent = Client()
    agent.force_login(alice)
    detail = agent.get("/readyz").json()["checks"]["email"]
    assert detail["ok"] is False and detail["mailboxes"][0]["name"] == "support-cn"


def test_readyz_fails_when_free_disk_is_below_the_threshold(settings: Any, alice: Any) -> None:
    settings.READYZ_MIN_FREE_MB = 10**9  # more than any disk here has free
    agent = Client()
    agent.force_login(alice)
    response = agent.get("/readyz")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["checks"]["disk"]["ok"] is False


@contextlib.contextmanager
def tiny_tmpfs(path: Path) -> Iterator[Path]:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_readyz_fails_on_a_really_full_data_disk(settings: Any, tmp_path: Path, alice: Any) -> None:
    with tiny_tmpfs(tmp_path / "full") as disk:
        settings.DATA_DIR = disk
        settings.MEDIA_ROOT = disk / "media"
        settings.READYZ_MIN_FREE_MB = 1
        agent = Client()
        agent.force_login(alice)
        assert agent.get("/readyz").json()["checks"]["disk"]["ok"] is True  # 1 MB free, 1 MB needed
        with contextlib.suppress(OSError):  # ENOSPC: the disk is full
            (disk / "filler").write_bytes(b"\0" * (2 * 1024 * 1024))
        response = agent.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["disk"]["data_free_mb"] == 0


def test_readyz_fails_when_due_tasks_wait_too_long_but_not_for_future_timers(
    alice: Any, settings: Any
) -> None:
    settings.READYZ_MAX_QUEUE_LAG_SECONDS = 60
    now = timezone.now()
    task = {"args_kwargs": {"args": [], "kwargs": {}}, "task_path": "x.y", "backend_name": "default"}
    DBTaskResult.objects.create(status="READY", run_after=now + timedelta(hours=4), **task)  # an SLA timer
    agent = Client()
    agent.force_login(alice)
    assert agent.get("/readyz").status_code == 200
    DBTaskResult.objects.create(status="READY", run_after=now - timedelta(minutes=10), **task)
    response = agent.get("/readyz")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["ok"] is False and worker["queue_lag_seconds"] >= 590


def test_readyz_uses_a_registered_worker_heartbeat(alice: Any) -> None:
    from walletdesk.core import views

    agent = Client()
    agent.force_login(alice)
    registered = list(views.WORKER_HEARTBEAT)
    try:
        views.register_worker_heartbeat(lambda: timezone.now() - timedelta(hours=1))
        assert agent.get("/readyz").json()["checks"]["worker"]["ok"] is False
        views.register_worker_heartbeat(lambda: timezone.now())
        assert agent.get("/readyz").json()["checks"]["worker"]["ok"] is True
    finally:
        views.WORKER_HEARTBEAT[:] = registered


def test_readyz_reads_the_workers_heartbeat_rows(alice: Any) -> None:
    from walletdesk.core.models import WorkerHeartbeat

    agent = Client()
    agent.force_login(alice)
    # No worker has reported: judged by the queue's lag alone, which is fine here.
    assert agent.get("/readyz").json()["checks"]["worker"]["ok"] is True
    # A worker on another machine went silent, and nobody swept its row: not ready.
    stale = timezone.now() - timedelta(hours=1)
    WorkerHeartbeat.objects.create(
        worker_id="w-remote", host="elsewhere", pid=1, started_at=stale, beat_at=stale
    )
    response = agent.get("/readyz")
    assert response.status_code == 503
    assert "silent" in response.json()["checks"]["worker"]["error"]
    WorkerHeartbeat.objects.filter(worker_id="w-remote").update(beat_at=timezone.now())
    assert agent.get("/readyz").status_code == 200


def test_readyz_does_not_call_a_starved_local_worker_dead(alice: Any) -> None:
    import os

    from walletdesk.core import leases
    from walletdesk.core.models import WorkerHeartbeat

    agent = Client()
    agent.force_login(alice)
    # A worker on this machine, alive (this very process), that has not beaten for an hour:
    # under a burst the SCHED_IDLE worker gets no CPU. Busy is not broken.
    stale = timezone.now() - timedelta(hours=1)
    WorkerHeartbeat.objects.create(
        worker_id="w-starved",
        host=leases.host_id(),
        pid=os.getpid(),
        proc_start=leases.proc_start(os.getpid()) or 0,
        started_at=stale,
        beat_at=stale,
    )
    assert agent.get("/readyz").status_code == 200
    # The same row for a pid that is gone: dead, and nobody swept it.
    WorkerHeartbeat.objects.filter(worker_id="w-starved").update(pid=2**22 + 17, proc_start=1)
    response = agent.get("/readyz")
    assert response.status_code == 503
    assert "silent" in response.json()["checks"]["worker"]["error"]


# --- caching -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
def test_tracking_and_signed_in_pages_are_no_store_public_pages_are_not(carol: Any, alice: Any) -> None:
    created = Client().post(
        "/api/v1/tickets",
        {"email": "nostore@example.com", "subject": "s", "body": "b"},
        content_type="application/json",
    )
    ticket = Ticket.objects.get(reference=created.json()["reference"])
    token = make_token(ticket.reference, ticket.contact_id)
    for url in (f"/track/{token}/", f"/submitted/{token}/"):
        response = Client().get(url)
        assert response.status_code == 200 and "no-store" in response["Cache-Control"], url
    # A bad link is no-store too: the URL is what is secret.
    assert "no-store" in Client().get("/track/forged/")["Cache-Control"]
    public = Client().get("/help/")
    assert public.status_code == 200 and "no-store" not in public.get("Cache-Control", "")
    assert "no-store" not in Client().get("/").get("Cache-Control", "")
    for user, url in ((carol, "/"), (carol, "/help/"), (carol, "/requests/"), (alice, "/agent/")):
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and "no-store" in response["Cache-Control"], url


@pytest.mark.usefixtures("seeded")
def test_the_identity_confirm_link_page_is_no_store() -> None:
    """The confirm link (tickets.identity) is a token URL like /track/: a shared browser's cache
    must not keep the page naming the request and the address it was filed with."""
    from walletdesk.tickets.identity import make_confirm_token

    created = Client().post(
        "/api/v1/tickets",
        {"email": "claimed@example.com", "subject": "s", "body": "b"},
        content_type="application/json",
    )
    ticket = Ticket.objects.get(reference=created.json()["reference"])
    token = make_confirm_token(ticket.reference, ticket.contact_id, "claimed@example.com")
    response = Client().get(f"/confirm/{token}/")
    assert response.status_code == 200 and "claimed@example.com" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in Client().get("/confirm/forged/")["Cache-Control"]
    # allauth's signed-out key pages: the key is in the URL the same way.
    for url in ("/accounts/confirm-email/forged/", "/accounts/password/reset/key/1-set-password/"):
        assert "no-store" in Client().get(url)["Cache-Control"], url


@pytest.mark.postgres
def test_readyz_answers_fast_when_postgresql_holds_the_probe_row_locked(postgres: None, alice: Any) -> None:
    """PostgreSQL: a write that waits on a lock gives up after READYZ_DB_TIMEOUT (lock_timeout)."""
    import time

    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    other = psycopg.connect(**params, autocommit=False)
    try:
        other.execute("LOCK TABLE core_healthprobe IN ACCESS EXCLUSIVE MODE")
        agent = Client()
        agent.force_login(alice)
        started = time.monotonic()
        response = agent.get("/readyz")
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        write = response.json()["checks"]["database_write"]
        assert write["ok"] is False and "lock" in write["error"].lower()
    finally:
        other.rollback()
        other.close()
    assert agent.get("/readyz").status_code == 200
