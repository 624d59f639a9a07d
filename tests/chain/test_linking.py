"""Linking an address by EIP-191 signature, as the customer and as an attacker.

Real keys (eth-account) sign the server's message; nothing is mocked. The attacks: someone
else's signature, a replay, an expired message, a signature for another account's message,
another customer's nonce, a recovery phrase or private key pasted in either field, and an
address already linked elsewhere (allowed for both: see LinkedAddress's docstring).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.conftest import client_for
from walletdesk.chain import actions
from walletdesk.chain.actions import ChainError
from walletdesk.chain.models import LinkChallenge, LinkedAddress
from walletdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db

SITE = "https://help.example/"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def sign(account: Any, message: str) -> str:
    return str(account.sign_message(encode_defunct(text=message)).signature.to_0x_hex())


@pytest.fixture
def wallet() -> Any:
    return Account.create()


def test_the_holder_of_the_key_links_the_address(carol: Any, wallet: Any) -> None:
    challenge = actions.start_link(carol, wallet.address, site=SITE)
    for line in (
        f"Site: {SITE}",
        f"Account: {carol.pk}",
        f"Address: {wallet.address}",
        f"Nonce: {challenge.nonce}",
    ):
        assert line in challenge.message.splitlines()
    assert "Expiration Time: " in challenge.message
    linked = actions.confirm_link(carol, challenge.nonce, sign(wallet, challenge.message))
    assert (linked.user, linked.address) == (carol, wallet.address.lower())
    assert AuditEntry.objects.filter(action="chain.address_linked", target_id=str(linked.pk)).exists()


def test_someone_elses_signature_does_not_link(carol: Any, wallet: Any) -> None:
    challenge = actions.start_link(carol, wallet.address, site=SITE)
    with pytest.raises(ChainError) as refused:
        actions.confirm_link(carol, challenge.nonce, sign(Account.create(), challenge.message))
    assert refused.value.code == "mismatch"
    assert not LinkedAddress.objects.exists()
    # The challenge stays open: a wrong signature does not burn the owner's message.
    actions.confirm_link(carol, challenge.nonce, sign(wallet, challenge.message))


def test_a_replayed_signature_is_refused(carol: Any, wallet: Any) -> None:
    challenge = actions.start_link(carol, wallet.address, site=SITE)
    signature = sign(wallet, challenge.message)
    actions.confirm_link(carol, challenge.nonce, signature)
    actions.unlink(carol, LinkedAddress.objects.get().pk)
    with pytest.raises(ChainError) as refused:
        actions.confirm_link(carol, challenge.nonce, signature)
    assert refused.value.code == "used"
    # Nor does it work against a fresh challenge for the same address (a new nonce, new text).
    fresh = actions.start_link(carol, wallet.address, site=SITE)
    with pytest.raises(ChainError) as again:
        actions.confirm_link(carol, fresh.nonce, signature)
    assert again.value.code == "mismatch"
    assert not LinkedAddress.objects.exists()


def test_an_expired_message_is_refused(carol: Any, wallet: Any) -> None:
    challenge = actions.start_link(carol, wallet.address, site=SITE)
    LinkChallenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ChainError) as refused:
        actions.confirm_link(carol, challenge.nonce, sign(wallet, challenge.message))
    assert refused.value.code == "expired"
    assert not LinkedAddress.objects.exists()


def test_a_signature_for_another_accounts_message_does_not_link(carol: Any, dave: Any, wallet: Any) -> None:
    # Dave tricks Carol's wallet into signing his message (or reads hers): neither side works.
    carols = actions.start_link(carol, wallet.address, site=SITE)
    daves = actions.start_link(dave, wallet.address, site=SITE)
    with pytest.raises(ChainError) as refused:
        actions.confirm_link(dave, daves.nonce, sign(wallet, carols.message))
    assert refused.value.code == "mismatch"
    # Dave submitting Carol's nonce with her genuine signature: her nonce is not his.
    with pytest.raises(ChainError) as stolen:
        actions.confirm_link(dave, carols.nonce, sign(wallet, carols.message))
    assert stolen.value.code == "unknown"
    assert not LinkedAddress.objects.filter(user=dave).exists()


def test_an_address_linked_by_another_customer_can_be_linked_with_its_own_signature(
    carol: Any, dave: Any, wallet: Any
) -> None:
    first = actions.start_link(carol, wallet.address, site=SITE)
    actions.confirm_link(carol, first.nonce, sign(wallet, first.message))
    second = actions.start_link(dave, wallet.address, site=SITE)
    actions.confirm_link(dave, second.nonce, sign(wallet, second.message))
    assert LinkedAddress.objects.filter(address=wallet.address.lower()).count() == 2
    assert AuditEntry.objects.get(action="chain.address_linked", actor=dave).data["shared"] is True


@pytest.mark.parametrize("field", ["address", "signature"])
@pytest.mark.parametrize("secret", ["phrase", "key"])
def test_a_recovery_phrase_or_private_key_is_screened_and_never_stored(
    carol: Any, wallet: Any, field: str, secret: str
) -> None:
    value = PHRASE if secret == "phrase" else wallet.key.to_0x_hex()
    client = client_for(carol)
    if field == "address":
        response = client.post("/account/addresses/link/", {"address": value})
    else:
        challenge = actions.start_link(carol, wallet.address, site=SITE)
        response = client.post(f"/account/addresses/link/{challenge.nonce}/", {"signature": value})
    assert response.status_code == 422
    body = response.content.decode()
    assert "recovery phrase" in body
    needle = "legal winner" if secret == "phrase" else wallet.key.hex()[2:20]
    assert needle not in body
    stored = [str(v) for m in (LinkChallenge, LinkedAddress, AuditEntry) for v in m.objects.values_list()]
    assert not any(needle in row for row in stored)
    assert not LinkedAddress.objects.exists()


def test_a_mistyped_checksum_or_a_short_address_is_refused(carol: Any, wallet: Any) -> None:
    wrong_case = wallet.address[:2] + wallet.address[2:].swapcase()
    if wrong_case[2:] not in (wrong_case[2:].lower(), wrong_case[2:].upper()):
        with pytest.raises(ChainError) as bad:
            actions.start_link(carol, wrong_case, site=SITE)
        assert bad.value.code == "checksum"
    with pytest.raises(ChainError):
        actions.start_link(carol, wallet.address[:-1], site=SITE)
    actions.start_link(carol, wallet.address.lower(), site=SITE)  # all lower case is fine


def test_the_pages_link_and_unlink_through_http(carol: Any, wallet: Any) -> None:
    client = client_for(carol)
    response = client.post("/account/addresses/link/", {"address": wallet.address})
    assert response.status_code == 302
    nonce = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    page = client.get(response["Location"]).content.decode()
    challenge = LinkChallenge.objects.get(nonce=nonce)
    assert f"Nonce: {nonce}" in page
    done = client.post(response["Location"], {"signature": sign(wallet, challenge.message)})
    assert done.status_code == 302
    listing = client.get("/account/addresses/").content.decode()
    assert wallet.address in listing
    linked = LinkedAddress.objects.get()
    assert client.post(f"/account/addresses/{linked.pk}/unlink/").status_code == 302
    assert not LinkedAddress.objects.exists()


def test_others_are_refused(carol: Any, dave: Any, alice: Any, wallet: Any) -> None:
    challenge = actions.start_link(carol, wallet.address, site=SITE)
    actions.confirm_link(carol, challenge.nonce, sign(wallet, challenge.message))
    linked = LinkedAddress.objects.get()
    guest = client_for(None)
    assert guest.get("/account/addresses/").status_code == 302  # to sign in
    assert guest.post(f"/account/addresses/{linked.pk}/unlink/").status_code == 302
    assert client_for(alice).get("/account/addresses/").status_code == 403
    daves = client_for(dave)
    assert wallet.address not in daves.get("/account/addresses/").content.decode()
    assert daves.get(f"/account/addresses/link/{challenge.nonce}/").status_code == 404
    assert daves.post(f"/account/addresses/{linked.pk}/unlink/").status_code == 404
    assert LinkedAddress.objects.filter(pk=linked.pk).exists()


def test_get_changes_nothing(carol: Any, wallet: Any) -> None:
    client = client_for(carol)
    assert client.get("/account/addresses/link/", {"address": wallet.address}).status_code == 405
    challenge = actions.start_link(carol, wallet.address, site=SITE)
    client.get(f"/account/addresses/link/{challenge.nonce}/", {"signature": sign(wallet, challenge.message)})
    assert not LinkedAddress.objects.exists()
