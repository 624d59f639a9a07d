"""Guest limits: shared counters (database or Redis), who is limited, and what a refused guest sees.

Runs on SQLite (the RateCounter table), and on Redis when REDIS_URL is set (every test then
counts in Redis: the module is the same, only the store differs).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from walletdesk.accounts.actions import issue_api_token
from walletdesk.connectors.inapp.models import AppKey
from walletdesk.core import ratelimit
from walletdesk.core.models import RateCounter
from walletdesk.tickets.models import Message, Ticket
from walletdesk.tickets.tracking import make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def guest_post(ip: str, email: str, n: int = 0, **headers: str) -> Any:
    return Client(REMOTE_ADDR=ip).post(
        "/api/v1/tickets",
        {"email": email, "subject": f"cannot log in {n}", "body": f"the app says error {n}"},
        content_type="application/json",
        headers=headers,
    )


def test_rates_parse_and_bad_ones_are_refused_at_start() -> None:
    assert ratelimit.parse("20/h/ip, 5/m/email") == (
        ratelimit.Rate(20, 3600, "ip"),
        ratelimit.Rate(5, 60, "email"),
    )
    assert ratelimit.parse("") == ()
    from django.core.exceptions import ImproperlyConfigured

    for bad in ("20/hour/ip", "x/h/ip", "-1/h/ip", "20"):
        with pytest.raises(ImproperlyConfigured):
            ratelimit.validate(bad, "RATE_LIMIT_GUEST_TICKET")


def test_a_batch_is_counted_in_order_as_if_one_by_one() -> None:
    charge = ratelimit.Charge("t", "3/h/email", {"email": "a@example.com"})
    other = ratelimit.Charge("t", "3/h/email", {"email": "b@example.com"})
    verdicts = ratelimit.charge_many([charge, charge, other, charge, charge, None])
    assert [v is None for v in verdicts] == [True, True, True, True, False, True]
    refusal = verdicts[4]
    assert refusal is not None and 0 < refusal.retry_after <= 3600 and refusal.scope == "email"
    # The next request, alone, is refused too; the other address still has room.
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.charge(charge)
    ratelimit.charge(other)


def test_counters_never_hold_the_address_or_the_email(settings: Any) -> None:
    if settings.REDIS_URL:
        pytest.skip("the database table is not used with Redis")
    ratelimit.charge(
        ratelimit.Charge("t", "9/h/ip,9/h/email", {"ip": "10.1.2.3", "email": "carol@example.com"})
    )
    stored = " ".join(RateCounter.objects.values_list("bucket", flat=True))
    assert stored and "10.1.2.3" not in stored and "carol" not in stored


def test_ended_windows_are_cleaned_up(settings: Any) -> None:
    if settings.REDIS_URL:
        pytest.skip("Redis expires its own keys")
    ratelimit.charge(ratelimit.Charge("t", "9/s/ip", {"ip": "10.1.2.3"}))
    ratelimit.charge(ratelimit.Charge("t", "9/d/ip", {"ip": "10.1.2.3"}))
    assert RateCounter.objects.count() == 2
    assert ratelimit.cleanup(time.time() + 30) == 1  # the one-second window ended; the day's not
    assert RateCounter.objects.count() == 1


def test_api_guest_tickets_limited_per_email_with_json_429(settings: Any) -> None:
    settings.RATE_LIMIT_GUEST_TICKET = "100/h/ip,2/h/email"
    codes = [guest_post(f"10.0.0.{n}", "flood@example.com", n).status_code for n in range(2)]
    assert codes == [201, 201]
    # Another address, and the same email written differently, are still the same sender.
    refused = guest_post("10.0.0.9", "  FLOOD@Example.com ", 9)
    assert refused.status_code in (422, 429)  # the schema may refuse the spaces first
    refused = guest_post("10.0.0.9", "FLOOD@Example.com", 9)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited" and int(refused["Retry-After"]) == body["retry_after"] > 0
    assert Ticket.objects.count() == 2
    assert guest_post("10.0.0.9", "someone-else@example.com").status_code == 201


def test_api_guest_tickets_limited_per_ip_and_a_spoofed_forwarded_for_does_not_reset_it(
    settings: Any,
) -> None:
    settings.RATE_LIMIT_GUEST_TICKET = "2/h/ip,100/h/email"
    settings.TRUSTED_PROXIES = []
    for n in range(2):
        assert (
            guest_post("10.2.2.2", f"g{n}@example.com", n, **{"X-Forwarded-For": f"1.1.1.{n}"}).status_code
            == 201
        )
    spoofed = guest_post("10.2.2.2", "g9@example.com", 9, **{"X-Forwarded-For": "8.8.8.8"})
    assert spoofed.status_code == 429
    assert guest_post("10.2.2.3", "g9@example.com").status_code == 201


def test_agents_customers_and_the_in_app_api_are_not_limited_as_guests(
    settings: Any, alice: Any, carol: Any
) -> None:
    settings.RATE_LIMIT_GUEST_TICKET = "1/h/ip,1/h/email"
    token = issue_api_token(alice, "crm")
    for n in range(3):
        agent = guest_post("10.3.3.3", "carol@example.com", n, Authorization=f"Bearer {token}")
        assert agent.status_code == 201, agent.content
    customer = Client(REMOTE_ADDR="10.3.3.3")
    customer.force_login(carol)
    for n in range(2):
        page = customer.post("/new/", {"category": "other", "subject": f"q{n}", "body": "hello"})
        assert page.status_code == 302
    key = AppKey.issue("wallet-ios")[1]
    for n in range(3):
        inapp = Client(REMOTE_ADDR="10.3.3.3").post(
            "/api/v1/inapp/tickets",
            {"subject": "s", "body": "b", "message_id": f"m-{n}", "email": "carol@example.com"},
            content_type="application/json",
            headers={"X-App-Key": key, "X-App-User": "user-1"},
        )
        assert inapp.status_code == 201, inapp.content
    # A guest from that address is the one who is limited.
    assert guest_post("10.3.3.3", "new@example.com").status_code == 201
    assert guest_post("10.3.3.3", "new2@example.com").status_code == 429


def test_web_form_refusal_is_bilingual_and_keeps_what_was_typed(settings: Any) -> None:
    settings.RATE_LIMIT_GUEST_TICKET = "1/h/ip"
    client = Client(REMOTE_ADDR="10.4.4.4")
    form = {
        "category": "other",
        "email": "w@example.com",
        "subject": "钱包打不开",
        "body": "打开就闪退 line two",
    }
    assert client.post("/new/", form).status_code == 302
    refused = client.post("/new/", {**form, "email": "w2@example.com"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    html = refused.content.decode()
    assert "Too many requests" in html and "请求过于频繁" in html
    assert "钱包打不开" in html and "打开就闪退 line two" in html and "w2@example.com" in html
    assert Ticket.objects.count() == 1


def test_guest_replies_by_tracking_link_are_limited_on_the_page_and_the_api(settings: Any) -> None:
    settings.RATE_LIMIT_GUEST_REPLY = "100/h/ip,2/h/email"
    created = guest_post("10.5.5.5", "replier@example.com").json()
    ticket = Ticket.objects.get(reference=created["reference"])
    token = make_token(ticket.reference, ticket.contact_id)
    page = Client(REMOTE_ADDR="10.5.5.5")
    assert page.post(f"/track/{token}/", {"body": "first"}).status_code == 302
    assert page.post(f"/track/{token}/", {"body": "second"}).status_code == 302
    refused = Client(REMOTE_ADDR="10.5.5.6").post(f"/track/{token}/", {"body": "third, typed with care"})
    assert refused.status_code == 429 and "third, typed with care" in refused.content.decode()
    api = Client(REMOTE_ADDR="10.5.5.7").post(
        f"/api/v1/tickets/{ticket.reference}/messages",
        {"body": "fourth"},
        content_type="application/json",
        headers={"X-Tracking-Token": token},
    )
    assert api.status_code == 429 and api.json()["code"] == "rate_limited" and api["Retry-After"]
    assert Message.objects.filter(ticket=ticket).count() == 3
    # Someone else's link is counted against that ticket's contact, not a fresh budget:
    # a wrong token is still a 404, and does not spend the owner's allowance.
    other = Client(REMOTE_ADDR="10.5.5.8").post(
        f"/api/v1/tickets/{ticket.reference}/messages",
        {"body": "x"},
        content_type="application/json",
        headers={"X-Tracking-Token": "forged"},
    )
    assert other.status_code in (400, 404)


def test_unlock_and_upload_limits_count_in_the_shared_store(settings: Any, carol: Any) -> None:
    settings.RATE_LIMIT_UNLOCK = "2/h/ip"
    client = Client(REMOTE_ADDR="10.6.6.6")
    codes = [client.post("/accounts/unlock/", {"email": "carol@example.com"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    if not settings.REDIS_URL:
        # The per-process cache counted these before; now every process sees the same rows,
        # and the count survives the cache being emptied (a restart, another process's cache).
        assert RateCounter.objects.filter(bucket__startswith="unlock:").exists()
        from django.core.cache import cache

        cache.clear()
    assert client.post("/accounts/unlock/", {"email": "carol@example.com"}).status_code == 429


def test_limits_hold_in_the_database_while_redis_is_unreachable(settings: Any, monkeypatch: Any) -> None:
    """Redis down must not turn every guest ticket into a 500 (tests/faults shows it on real
    processes): the counts go to the table, and a flood is still refused."""
    from tests.servers import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    monkeypatch.setattr(ratelimit, "_redis_client", None)
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)
    charge = ratelimit.Charge("t", "2/h/email", {"email": "flood@example.com"})
    ratelimit.charge(charge)
    # Redis is not tried again for a while: no refused connection per request.
    assert ratelimit._redis_down_until > time.monotonic()
    ratelimit.charge(charge)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.charge(charge)
    assert RateCounter.objects.count() == 1
    monkeypatch.setattr(ratelimit, "_redis_client", None)  # not left pointing at the dead port


def security_report(ip: str, email: str, n: int = 0) -> Any:
    return Client(REMOTE_ADDR=ip).post(
        "/api/v1/tickets",
        {
            "email": email,
            "subject": f"my account was taken over {n}",
            "body": f"someone changed my password and is sending my funds away {n}",
            "category": "account_stolen",
            "account": email,
        },
        content_type="application/json",
    )


def test_a_theft_victim_behind_a_busy_carrier_nat_can_still_report(settings: Any) -> None:
    settings.RATE_LIMIT_GUEST_TICKET = "3/h/ip,10/h/email"
    settings.RATE_LIMIT_GUEST_SECURITY_REPORT = "3/h/ip,5/h/email"
    # Other people behind the same carrier address use up its hour of ordinary tickets.
    assert [guest_post("100.64.0.1", f"other{n}@example.com", n).status_code for n in range(3)] == [201] * 3
    assert guest_post("100.64.0.1", "other9@example.com", 9).status_code == 429
    # The victim's report from that address still gets through, as a Security desk ticket.
    report = security_report("100.64.0.1", "victim@example.com")
    assert report.status_code == 201, report.content
    ticket = Ticket.objects.get(reference=report.json()["reference"])
    assert ticket.category.slug == "account_stolen" and ticket.team.slug == "security"
    # The web form too: the same address, refused for an ordinary request, takes the report.
    form = Client(REMOTE_ADDR="100.64.0.1")
    page = form.post(
        "/new/",
        {
            "category": "account_stolen",
            "email": "victim2@example.com",
            "subject": "account stolen",
            "body": "someone took over my account",
            "account": "victim2@example.com",
        },
    )
    assert page.status_code == 302, page.content.decode()[-800:]


def test_one_address_still_cannot_file_unlimited_security_reports(settings: Any) -> None:
    settings.RATE_LIMIT_GUEST_TICKET = "3/h/ip,10/h/email"
    settings.RATE_LIMIT_GUEST_SECURITY_REPORT = "3/h/ip,2/h/email"
    # A new email each time does not help: the address's security bucket runs out as well.
    codes = [security_report("100.64.0.2", f"flood{n}@example.com", n).status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    codes = [guest_post("100.64.0.2", f"flood{n}@example.com", n).status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert Ticket.objects.count() == 6  # the ordinary limit plus the security one, no more
    # And one email cannot be flooded with acknowledgements from many addresses.
    codes = [security_report(f"100.64.1.{n}", "target@example.com", n).status_code for n in range(3)]
    assert codes == [201, 201, 429]
