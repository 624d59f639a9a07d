"""Attacks on the issue-16 fixes that must keep failing, over real HTTP (the live server).

A guest files a request typing carol's address and keeps its tracking link. Once carol confirms
it, everything the guest's link opened is closed: the page, the reply form and the "follow up"
button, and carol's own page by reference asks for a sign-in.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from tests.e2e.test_identity_journeys import Session, _confirm_link_for, _reference_from_redirect
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_the_guests_links_die_when_carol_confirms(live_server: Any, carol: Any, settings: Any) -> None:
    settings.SITE_URL = live_server.url
    base = live_server.url
    mail.outbox.clear()
    guest = Session(base)
    status, _, headers = guest.post_form(
        "/new/?category=other",
        {"category": "other", "email": "carol@example.com", "subject": "Fees", "body": "Why this fee?"},
    )
    assert status == 302
    track = headers["Location"].replace("/submitted/", "/track/")
    reference = _reference_from_redirect(guest, headers["Location"])
    assert guest.get(track)[0] == 200
    # Before confirmation the guest's link works (it is their own claim).
    assert guest.post_form(track, {"body": "any news?"})[0] == 302

    mailbox = Session(base)
    assert mailbox.post_form(_confirm_link_for(reference), {})[0] == 302
    assert Ticket.objects.get(reference=reference).contact.user_id == carol.pk

    # After it, the same link opens nothing, takes no reply and no follow-up.
    messages_before = Ticket.objects.get(reference=reference).messages.count()
    assert guest.get(track)[0] == 403
    assert guest.post_form(track, {"body": "I am carol, reset my 2FA"})[0] == 403
    assert guest.post_form(track + "follow-up/", {})[0] in (403, 404)
    assert Ticket.objects.get(reference=reference).messages.count() == messages_before
    # Guessing carol's own page by reference, as a guest or another session, is a sign-in wall.
    status, _, headers = guest.get(f"/requests/{reference}/")
    assert status == 302 and re.search(r"/accounts/login/", headers["Location"])
