"""What the sender does with each kind of answer, against a real local receiver: retried with
backoff (Retry-After first) and then delivered, failed at once where retrying cannot help, no
redirect followed, nothing private reached in production, and the lost or stalled ones swept."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.connectors.standin import Recorded, StandIn
from tests.connectors.webhooks.conftest import make_endpoint, verified
from tests.servers import free_port
from walletdesk.connectors.webhooks import delivery, guard, signing
from walletdesk.connectors.webhooks.models import WebhookDelivery
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket

pytestmark = pytest.mark.django_db

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def _ticket(capture: Any) -> WebhookDelivery:
    with capture(execute=True):
        actions.create_ticket(NewTicket(subject="Fee", body="Why so high?", email="li@example.com"))
    return WebhookDelivery.objects.get()


def _again(row: WebhookDelivery) -> str:
    """Time passes until the retry is due, and its task runs (the immediate backend cannot wait)."""
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    return delivery.deliver(row.pk)


def test_a_receiver_5xx_is_retried_with_backoff_then_delivered(
    receiver: StandIn, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.routes["/hook"] = [(503, "busy"), (500, "oops"), (200, {"ok": True})]
    make_endpoint(f"{receiver.base_url}/hook")
    before = timezone.now()
    row = _ticket(django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_status_code) == ("retry", 1, 503)
    assert row.response_excerpt == "busy" and "503" in row.last_error
    assert before + timedelta(seconds=29) < row.next_attempt_at < timezone.now() + timedelta(seconds=31)
    assert delivery.deliver(row.pk) == "not_due"  # not before its time
    assert _again(row).startswith("retry in 60")  # doubled
    assert _again(row) == "delivered"
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_status_code, row.last_error) == ("delivered", 3, 200, "")
    sent = receiver.requests_to("/hook")
    assert len(sent) == 3
    # Every attempt is the same event (receivers dedupe on it), each freshly signed.
    assert len({verified(r)["id"] for r in sent}) == 1
    assert delivery.deliver(row.pk) == "not_due"  # a repeated task sends nothing twice


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ((429, "slow down", {"Retry-After": "600"}), "retry"),
        ((408, "timeout"), "retry"),
        ((400, "bad request"), "failed"),
        ((410, "gone"), "failed"),
        ((302, "", {"Location": "http://169.254.169.254/latest/meta-data/"}), "failed"),
    ],
)
def test_what_each_answer_means(
    receiver: StandIn, django_capture_on_commit_callbacks: Any, answer: Any, state: str
) -> None:
    receiver.routes["/hook"] = answer
    make_endpoint(f"{receiver.base_url}/hook")
    row = _ticket(django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_status_code) == (state, 1, answer[0])
    assert len(receiver.requests) == 1  # a redirect is not followed
    if answer[0] == 429:  # the receiver's Retry-After wins over the 30 s backoff
        assert row.next_attempt_at > timezone.now() + timedelta(seconds=590)


def test_retry_after_as_an_http_date() -> None:
    from walletdesk.core.retry import retry_after

    now = timezone.now()
    assert retry_after("120") == 120.0
    assert (retry_after("Wed, 21 Oct 2099 07:28:00 GMT", now) or 0) > 1e6
    assert retry_after("soon") is None
    assert delivery.backoff(1, None) == 30 and delivery.backoff(20, None) == 3600
    assert delivery.backoff(1, 10**9) == 86400  # a receiver cannot park a delivery for years


def test_a_receiver_that_is_down_or_hangs_is_retried_then_failed(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    release = threading.Event()

    def hang(request: Recorded) -> Any:
        release.wait(5)
        return (200, "too late")

    make_endpoint(f"http://127.0.0.1:{free_port()}/hook")  # nobody listens
    row = _ticket(django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == "retry" and "ConnectError" in row.last_error and row.last_status_code is None
    with StandIn({"/hook": hang}) as slow:
        row.endpoint.url = f"{slow.base_url}/hook"
        row.endpoint.save()
        assert _again(row) == "failed"  # the second and last attempt timed out
        release.set()
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 2)
    assert "timed out" in row.last_error


def test_what_a_receiver_answers_is_screened_before_it_is_stored(
    receiver: StandIn, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.routes["/hook"] = (500, f"error: cannot parse {PHRASE} " + "x" * 5000)
    make_endpoint(f"{receiver.base_url}/hook")
    row = _ticket(django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.response_excerpt.startswith("error: cannot parse")
    assert "sausage" not in row.response_excerpt and len(row.response_excerpt) <= 500


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
        "https://user:pass@example.com/hook",
    ],
)
def test_private_and_odd_urls_are_refused_in_production(settings: Any, url: str) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(guard.RefusedURL):
        guard.check(url, resolve=True)


def test_public_urls_pass_the_check(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    guard.check("https://8.8.8.8/hook")
    guard.check("https://hooks.example.com/walletdesk")  # a name is resolved only when sending


def test_a_private_address_is_refused_when_sending_not_only_when_saved(
    receiver: StandIn, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(f"{receiver.base_url}/hook")  # saved while allowed (a development desk)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # then run in production
    row = _ticket(django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == "failed" and row.last_error.startswith("refused:")
    assert receiver.requests == []


def test_the_sweep_sends_again_what_a_dead_worker_left_and_what_lost_its_task(
    receiver: StandIn, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = make_endpoint(f"{receiver.base_url}/hook")
    now = timezone.now()
    payload = {"id": "x", "type": "ticket.created", "created_at": now.isoformat(), "data": {}}
    common = {"endpoint": endpoint, "event_type": "ticket.created", "payload": payload}

    stalled = WebhookDelivery.objects.create(
        **common, event_id=uuid.uuid4(), state="sending", attempts=1, next_attempt_at=now,
        lease_until=now - timedelta(seconds=1),
    )  # fmt: skip
    sending = WebhookDelivery.objects.create(
        **common, event_id=uuid.uuid4(), state="sending", attempts=1, next_attempt_at=now,
        lease_until=now + timedelta(seconds=60),
    )  # fmt: skip
    lost = WebhookDelivery.objects.create(
        **common, event_id=uuid.uuid4(), next_attempt_at=now - timedelta(hours=1)
    )
    waiting = WebhookDelivery.objects.create(
        **common, event_id=uuid.uuid4(), state="retry", next_attempt_at=now + timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.recover() == "stalled=1 lost=1"
    states = dict(WebhookDelivery.objects.values_list("pk", "state"))
    assert states[stalled.pk] == states[lost.pk] == "delivered"
    assert states[sending.pk] == "sending" and states[waiting.pk] == "retry"
    assert WebhookDelivery.objects.get(pk=stalled.pk).attempts == 2
    assert sorted(r.headers["x-walletdesk-delivery"] for r in receiver.requests) == sorted(
        [str(stalled.event_id), str(lost.event_id)]
    )
    assert delivery.recover() == "stalled=0 lost=0"


def test_a_receiver_can_tell_a_forgery_and_a_replay() -> None:
    secret = "whsec_abc"
    body = b'{"id":"1","type":"ticket.created"}'
    good = signing.header(secret, body)
    assert signing.verify(secret, good, body)
    assert not signing.verify("whsec_other", good, body)  # another secret
    assert not signing.verify(secret, good, body.replace(b"created", b"closed"))  # changed body
    old = signing.header(secret, body, timestamp=int(timezone.now().timestamp()) - 3600)
    assert not signing.verify(secret, old, body)  # replayed an hour later
    stamp = good.split(",")[0]
    assert not signing.verify(secret, stamp + ",v1=" + "0" * 64, body)
    assert not signing.verify(secret, "v1=" + good.split("v1=")[1], body)  # no timestamp
    assert not signing.verify(secret, stamp + "," + stamp + ",v1=" + good.split("v1=")[1], body)


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_changed_by_another_process_never_breaks_a_ticket(receiver: StandIn) -> None:
    """Each process keeps the endpoint list for a few seconds. An endpoint deleted or changed
    elsewhere (here: without this process's signal, as another process does it) still gets a
    delivery written here; the ticket must commit all the same, and nothing is sent."""
    from walletdesk.connectors.webhooks.models import WebhookEndpoint
    from walletdesk.tickets.models import Ticket

    gone = make_endpoint(f"{receiver.base_url}/hook", ["ticket.created"])
    moved = make_endpoint(f"{receiver.base_url}/hook", ["ticket.created"])
    actions.create_ticket(NewTicket(subject="Warm", body="up", email="a@example.com"))
    receiver.wait_for("/hook", 2)
    WebhookEndpoint.objects.filter(pk=gone.pk)._raw_delete(using="default")  # type: ignore[attr-defined]
    WebhookEndpoint.objects.filter(pk=moved.pk).update(events=["sla.breached"])
    ticket = actions.create_ticket(NewTicket(subject="Fee", body="Why?", email="b@example.com"))
    assert Ticket.objects.filter(pk=ticket.pk).exists()  # committed
    late = WebhookDelivery.objects.filter(payload__data__ticket__reference=ticket.reference)
    assert sorted(late.values_list("state", "last_error")) == [
        ("failed", "the endpoint no longer subscribes to this event"),
        ("failed", "the endpoint was deleted"),
    ]
    assert len(receiver.requests) == 2  # only the first ticket's
