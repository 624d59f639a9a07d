"""Who may read the outbox (core.outbox, desk/outbox_views.py), and what it shows.

The kept mails hold every customer's tracking, confirmation and password-reset links, so only
agents read them; guests are sent to sign in and customers are refused. A name that is not an
outbox file (`../secret_key`) is no mail; production has no outbox page at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from walletdesk.core import outbox


@pytest.fixture
def kept(settings: Any, tmp_path: Path) -> str:
    settings.DATA_DIR = tmp_path
    settings.MAILERS = {"default": {"BACKEND": outbox.BACKEND}}
    (tmp_path / "secret_key").write_text("not for agents")
    mail.send_mail(
        "Your request WD-1 <b>bold</b>",
        "Hello <script>alert(1)</script>\nFollow it: http://127.0.0.1:8000/track/abc.def/\n",
        "support@walletdesk.localhost",
        ["guest@example.com"],
    )
    [name] = [p.name for p in (tmp_path / "outbox").iterdir()]
    return name


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.django_db
def test_an_agent_reads_the_kept_mail_escaped_with_its_links(kept: str, alice: Any) -> None:
    listing = _as(alice).get("/agent/outbox/")
    assert listing.status_code == 200
    assert b"guest@example.com" in listing.content and kept.encode() in listing.content
    page = _as(alice).get(f"/agent/outbox/{kept}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
    assert 'href="http://127.0.0.1:8000/track/abc.def/"' in page


@pytest.mark.django_db
def test_a_customer_is_refused_and_a_guest_must_sign_in(kept: str, carol: Any) -> None:
    for url in ("/agent/outbox/", f"/agent/outbox/{kept}/"):
        assert _as(carol).get(url).status_code == 403
        guest = Client().get(url)
        assert guest.status_code == 302 and guest["Location"].startswith("/accounts/login/")
        assert b"guest@example.com" not in guest.content


@pytest.mark.django_db
def test_only_outbox_files_are_mails(kept: str, alice: Any, tmp_path: Path) -> None:
    client = _as(alice)
    for name in ("secret_key", "..%2Fsecret_key", "..", kept.replace(".eml", ".txt"), f".{kept}.part"):
        response = client.get(f"/agent/outbox/{name}/")
        assert response.status_code == 404, name
        assert b"not for agents" not in response.content


@pytest.mark.django_db
def test_an_install_that_sends_its_mail_has_no_outbox(kept: str, alice: Any, settings: Any) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert _as(alice).get("/agent/outbox/").status_code == 404
    assert b"/agent/outbox/" not in _as(alice).get("/agent/").content  # nor a link to it
    settings.MAILERS = {"default": {"BACKEND": outbox.BACKEND}}
    settings.PRODUCTION = True
    assert _as(alice).get(f"/agent/outbox/{kept}/").status_code == 404


@pytest.mark.django_db
def test_a_colleagues_mail_is_for_administrators_only(kept: str, alice: Any, bob: Any, root: Any) -> None:
    # Bob's password-reset link in the outbox would let Alice take over Bob's account.
    mail.send_mail(
        "Reset your password", "http://127.0.0.1:8000/accounts/password/reset/key/x/", None, [bob.email]
    )
    names = sorted(p.name for p in (Path(outbox.directory())).iterdir() if p.name != kept)
    [bobs] = names
    assert bobs not in _as(alice).get("/agent/outbox/").content.decode()
    assert _as(alice).get(f"/agent/outbox/{bobs}/").status_code == 404
    assert kept in _as(alice).get("/agent/outbox/").content.decode()  # a customer's mail: yes
    assert _as(bob).get(f"/agent/outbox/{bobs}/").status_code == 200  # his own
    assert _as(root).get(f"/agent/outbox/{bobs}/").status_code == 200
