"""Lockout that stops attackers, not strangers.

One customer's typos lock their own account and nobody else behind the same address (carrier NAT,
offices); a password sprayer (one address, many accounts, a few tries each) is stopped by the
per-IP limit; the address counted is the peer's unless the peer is a proxy the operator trusts.
"""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.accounts.conftest import PASSWORD, login
from walletdesk.accounts.lockout import DEVICE_COOKIE, device_cookie_value, ip_failures
from walletdesk.accounts.models import LoginEvent

pytestmark = pytest.mark.django_db

NAT = "100.64.1.1"  # carrier-grade NAT: thousands of customers behind it


def test_one_customers_typos_lock_only_her_account(carol: Any, dave: Any, alice: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        login(Client(REMOTE_ADDR=NAT), "carol@example.com", "typo typo typo")
    # carol's account is locked, from everywhere, even with the right password...
    assert login(Client(REMOTE_ADDR=NAT), "carol@example.com", PASSWORD).status_code == 429
    assert login(Client(REMOTE_ADDR="10.1.1.1"), "carol@example.com", PASSWORD).status_code == 429
    # ...and dave and the agent alice, behind the same address, sign in.
    assert login(Client(REMOTE_ADDR=NAT), "dave@example.com", PASSWORD).status_code == 302
    assert login(Client(REMOTE_ADDR=NAT), "alice@desk.test", PASSWORD).status_code == 302


def test_many_customers_typos_behind_one_address_lock_nobody_else(
    carol: Any, dave: Any, settings: Any
) -> None:
    # 30 people behind the NAT each mistype twice: 60 failures, under the per-IP limit.
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOCKOUT_IP_FAILURES = 100
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1000/m/ip"}
    for n in range(30):
        for _ in range(2):
            login(Client(REMOTE_ADDR=NAT), f"person{n}@example.com", "typo typo typo")
    assert ip_failures(NAT) == 60
    assert login(Client(REMOTE_ADDR=NAT), "dave@example.com", PASSWORD).status_code == 302


def test_password_spraying_is_stopped_by_the_ip_limit(carol: Any, dave: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOCKOUT_IP_FAILURES = 12
    attacker = "198.51.100.7"
    codes = []
    for n in range(8):  # 8 accounts, 2 tries each: never the per-account limit
        for guess in ("Password123!", "Qwerty12345!"):
            codes.append(login(Client(REMOTE_ADDR=attacker), f"victim{n}@example.com", guess).status_code)
    # Like the per-account limit, the failure that reaches the limit already gets the lockout page.
    assert codes[:11] == [200] * 11 and set(codes[11:]) == {429}
    # The sprayer is refused even on a real account with the right password (no oracle)...
    assert login(Client(REMOTE_ADDR=attacker), "carol@example.com", PASSWORD).status_code == 429
    # ...and the refused attempts were not counted against carol: she is not locked elsewhere.
    assert not AccessAttempt.objects.filter(username="carol@example.com").exists()
    assert login(Client(REMOTE_ADDR="10.2.2.2"), "carol@example.com", PASSWORD).status_code == 302
    # Counted once per failure, not once per refusal: the throttle runs out with its window.
    assert ip_failures(attacker) == 12


def test_a_known_device_still_signs_in_from_a_throttled_address(carol: Any, dave: Any, settings: Any) -> None:
    settings.LOCKOUT_IP_FAILURES = 4
    office = "203.0.113.50"
    # dave signed in from his phone before: the response gave it a device cookie.
    phone = Client(REMOTE_ADDR=office)
    first = login(phone, "dave@example.com", PASSWORD)
    assert first.status_code == 302 and DEVICE_COOKIE in first.cookies
    phone.post("/accounts/logout/")
    for n in range(4):  # then someone sprays from the office network
        login(Client(REMOTE_ADDR=office), f"x{n}@example.com", "guess guess guess")
    assert login(Client(REMOTE_ADDR=office), "dave@example.com", PASSWORD).status_code == 429
    assert login(phone, "dave@example.com", PASSWORD).status_code == 302
    # The cookie vouches for dave only: not for carol, and a forged or altered one for nobody.
    carols_try = Client(REMOTE_ADDR=office)
    carols_try.cookies[DEVICE_COOKIE] = device_cookie_value(dave.pk)
    assert login(carols_try, "carol@example.com", PASSWORD).status_code == 429
    forged = Client(REMOTE_ADDR=office)
    forged.cookies[DEVICE_COOKIE] = device_cookie_value(carol.pk)[:-2] + "xx"
    assert login(forged, "carol@example.com", PASSWORD).status_code == 429
    # A wrong password from the known device still counts against dave's own account.
    phone.post("/accounts/logout/")
    assert login(phone, "dave@example.com", "wrong wrong wrong").status_code == 200
    assert AccessAttempt.objects.get(username="dave@example.com").failures_since_start == 1


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(carol: Any, settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    settings.LOCKOUT_IP_FAILURES = 6
    attacker = "198.51.100.9"
    codes = []
    for n in range(10):  # a new forged X-Forwarded-For on every try, to get a fresh bucket
        client = Client(REMOTE_ADDR=attacker, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
        codes.append(login(client, f"v{n}@example.com", "guess guess guess").status_code)
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {attacker}
    # The login history records the peer, not the claim.
    login(Client(REMOTE_ADDR="10.3.3.3", HTTP_X_FORWARDED_FOR="8.8.8.8"), "carol@example.com", "nope nope")
    assert LoginEvent.objects.get(user=carol).ip_address == "10.3.3.3"


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(
    carol: Any, dave: Any, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOCKOUT_IP_FAILURES = 4
    proxy = "10.0.0.2"
    # The client may prepend anything; only the hop the proxy appended is believed.
    for n in range(4):
        sprayer = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.20")
        login(sprayer, f"s{n}@example.com", "guess guess guess")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.20"}
    throttled = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert login(throttled, "dave@example.com", PASSWORD).status_code == 429
    # Another customer behind the same proxy is a different address, and signs in.
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.21")
    assert login(other, "carol@example.com", PASSWORD).status_code == 302
    assert LoginEvent.objects.get(user=carol).ip_address == "198.51.100.21"


def test_unlock_limit_counts_the_peer_not_a_spoofed_header(carol: Any, settings: Any) -> None:
    settings.RATE_LIMIT_UNLOCK = "3/h/ip"
    codes = [
        Client(REMOTE_ADDR="10.8.8.1", HTTP_X_FORWARDED_FOR=f"5.5.5.{n}")
        .post("/accounts/unlock/", {"email": f"n{n}@example.com"})
        .status_code
        for n in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
