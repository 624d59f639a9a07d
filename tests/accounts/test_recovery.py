"""Account recovery cases: urgent ticket, encrypted metadata-free documents, access, retention."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.accounts.conftest import make_reviewer, picture_with_exif
from walletdesk.accounts import actions, crypto
from walletdesk.accounts.models import IdentityDocument, RecoveryCase
from walletdesk.core.models import AuditEntry
from walletdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def form(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": "carol@example.com",
        "what_happened": "My password was changed last night and I cannot sign in any more.",
        "recent_activity": "I signed in from my iPhone on Monday.",
        "document_kind": "id_card",
        "front": SimpleUploadedFile("front.jpg", picture_with_exif("JPEG"), content_type="image/jpeg"),
        "back": SimpleUploadedFile("back.png", picture_with_exif("PNG"), content_type="image/png"),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def open_case(client: Client | None = None, **extra: Any) -> RecoveryCase:
    response = (client or Client()).post("/account-recovery/", form(**extra))
    assert response.status_code == 302, response.content.decode()[:3000]
    return RecoveryCase.objects.latest("created_at")


def stored_bytes(document: IdentityDocument) -> bytes:
    return Path(document.file.path).read_bytes()


def test_guest_opens_a_case_with_an_urgent_security_ticket(carol: Any) -> None:
    case = open_case()
    ticket = Ticket.objects.get(pk=case.ticket_id)
    assert ticket.reference == case.ticket_reference
    assert ticket.category.slug == "account_stolen" and ticket.priority == "urgent"
    assert ticket.team.slug == "security"
    assert "cannot sign in" in ticket.messages.first().body
    assert case.email == "carol@example.com" and case.user is None
    assert AuditEntry.objects.filter(action="recovery_case.opened", target_id=str(case.pk)).exists()


def test_documents_are_encrypted_at_rest_and_stripped_of_exif(carol: Any) -> None:
    original = picture_with_exif("JPEG")
    assert b"SecretCam" in original
    case = open_case(front=SimpleUploadedFile("front.jpg", original, content_type="image/jpeg"))
    documents = list(case.documents.order_by("side"))
    assert [d.side for d in documents] == ["back", "front"]
    for document in documents:
        raw = stored_bytes(document)
        assert raw != original and b"SecretCam" not in raw and not raw.startswith((b"\xff\xd8", b"\x89PNG"))
        assert "identity/" in document.file.name and document.file.name.endswith(".bin")
        plain = crypto.decrypt(raw)
        assert b"SecretCam" not in plain and b"Model-42" not in plain
        with Image.open(io.BytesIO(plain)) as image:
            assert not image.getexif()
            assert image.size == (64, 40)
        assert document.metadata_stripped


def test_pdf_is_kept_as_is_and_flagged(carol: Any) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    case = open_case(front=SimpleUploadedFile("id.pdf", pdf), back=None, document_kind="passport")
    document = case.documents.get()
    assert document.content_type == "application/pdf" and not document.metadata_stripped
    assert crypto.decrypt(stored_bytes(document)) == pdf


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("front.jpg", b"MZ\x90\x00 this is a windows program" * 10, "not a photo or PDF"),
        ("front.png", b"", "empty"),
        ("front.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "could not be read"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_stored(
    carol: Any, name: str, data: bytes, message: str
) -> None:
    response = Client().post("/account-recovery/", form(front=SimpleUploadedFile(name, data)))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RecoveryCase.objects.exists() and not Ticket.objects.exists()


def test_size_limit(carol: Any, settings: Any) -> None:
    settings.DOCUMENT_MAX_BYTES = 200
    response = Client().post("/account-recovery/", form())
    assert response.status_code == 400 and "larger than" in response.content.decode()
    assert not RecoveryCase.objects.exists()


def test_signed_in_customer_case_is_linked_to_the_account(carol: Any, as_user: Any) -> None:
    case = open_case(as_user(carol), email=None)
    assert case.user == carol and case.email == "carol@example.com"
    assert Ticket.objects.get(pk=case.ticket_id).contact.user == carol


def document_link(document: IdentityDocument) -> str:
    return f"/agent/documents/{document.public_id}/"


def views_of(document: IdentityDocument) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(action="identity_document.viewed", target_id=str(document.pk))
    return list(entries.order_by("pk"))


def test_the_security_desk_reviews_its_cases_documents_and_every_view_is_audited(
    carol: Any, dave: Any, alice: Any, bob: Any, erin: Any, root: Any, as_user: Any
) -> None:
    case = open_case(as_user(carol), email=None)
    document = case.documents.get(side="front")
    link = document_link(document)
    plain = crypto.decrypt(stored_bytes(document))
    assert Client().get(link).status_code == 302  # anonymous: to sign in
    # Customers (the uploader too), an agent of another team, an agent of no team.
    for persona in (carol, dave, alice, erin):
        response = as_user(persona).get(link)
        assert response.status_code == 403 and plain not in response.content
    assert views_of(document) == []
    # Bob is on the Security desk, the restricted team that owns the case's ticket: no grant
    # needed (on main he got "You don't have permission").
    response = as_user(bob).get(link)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content == plain
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    [entry] = views_of(document)
    assert entry.actor == bob and entry.data["ticket"] == case.ticket_reference
    assert entry.data["side"] == "front"
    assert as_user(root).get(link).status_code == 200
    assert [e.actor for e in views_of(document)] == [bob, root]
    # The ticket's sidebar links every document for him, and says each opening is recorded.
    page = as_user(bob).get(f"/agent/tickets/{case.ticket_reference}/").content.decode()
    for each in case.documents.all():
        assert document_link(each) in page
    assert "recorded in the audit log" in page
    assert len(views_of(document)) == 2  # showing the page opened nothing


def test_the_permission_alone_does_not_open_a_restricted_teams_case(
    carol: Any, alice: Any, as_user: Any
) -> None:
    """Alice is a document reviewer but not on the Security desk: she does not see its ticket,
    so she does not see its documents (main let the permission through regardless)."""
    case = open_case()
    document = case.documents.first()
    reviewer = make_reviewer(alice)
    assert reviewer.has_perm("accounts.view_identity_document")
    assert as_user(reviewer).get(document_link(document)).status_code == 403
    assert views_of(document) == []


def test_membership_grants_only_for_a_restricted_team(carol: Any, alice: Any, bob: Any, as_user: Any) -> None:
    """Moved to the General team (unrestricted: every agent sees its tickets), the case's
    documents are for explicit reviewers only, not for whoever is in General."""
    from walletdesk.tickets.models import Team

    case = open_case()
    document = case.documents.first()
    Ticket.objects.filter(pk=case.ticket_id).update(team=Team.objects.get(slug="general"))
    for persona in (alice, bob):
        assert as_user(persona).get(document_link(document)).status_code == 403
    page = as_user(alice).get(f"/agent/tickets/{case.ticket_reference}/").content.decode()
    assert document_link(document) not in page and 'data-testid="documents-refused"' in page
    assert as_user(make_reviewer(alice)).get(document_link(document)).status_code == 200


def test_a_guest_case_for_an_unknown_address_shows_its_documents_to_the_reviewer(
    bob: Any, as_user: Any
) -> None:
    """No account matches the address, so there is no account card; the case and its links
    are shown all the same (main showed "2 identity document files" and no link)."""
    case = open_case(email="stranger@example.net")
    assert case.user is None
    page = as_user(bob).get(f"/agent/tickets/{case.ticket_reference}/").content.decode()
    assert 'data-testid="recovery-case"' in page and 'data-testid="account-security"' not in page
    for document in case.documents.all():
        assert document_link(document) in page
        assert as_user(bob).get(document_link(document)).status_code == 200
    assert "close-case" in page  # and the case can be closed without an account


def test_documents_are_deleted_after_retention_once_the_case_closes(
    carol: Any, bob: Any, as_user: Any, settings: Any
) -> None:
    settings.DOCUMENT_RETENTION_DAYS = 30
    case = open_case()
    paths = [Path(d.file.path) for d in case.documents.all()]
    assert all(p.exists() for p in paths)
    assert actions.purge_expired_documents() == 0  # open cases keep their documents
    response = as_user(bob).post(
        f"/agent/tickets/{case.ticket_reference}/account/close-case/",
        {"close-reason": "Owner confirmed, resolved"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.documents_purge_after is not None
    assert abs(case.documents_purge_after - (case.closed_at + timedelta(days=30))) < timedelta(seconds=1)
    assert actions.purge_expired_documents() == 0  # not yet
    assert actions.purge_expired_documents(now=timezone.now() + timedelta(days=29)) == 0
    RecoveryCase.objects.filter(pk=case.pk).update(
        documents_purge_after=timezone.now() - timedelta(seconds=1)
    )
    call_command("purge_identity_documents")
    assert not IdentityDocument.objects.filter(case=case).exists()
    assert not any(p.exists() for p in paths)
    assert AuditEntry.objects.filter(action="identity_document.purged", target_id=str(case.pk)).exists()
    # The periodic task does the same and is idempotent.
    from walletdesk.accounts.tasks import purge_expired_documents

    assert purge_expired_documents.enqueue().return_value == 0


def test_deleting_a_case_deletes_its_document_files(carol: Any, root: Any) -> None:
    case = open_case()
    paths = [Path(d.file.path) for d in case.documents.all()]
    actions.delete_recovery_case(case, actor=root, reason="duplicate")
    assert not IdentityDocument.objects.exists() and not any(p.exists() for p in paths)
    # And a plain cascade delete (e.g. from a shell) also removes the files.
    case = open_case()
    paths = [Path(d.file.path) for d in case.documents.all()]
    RecoveryCase.objects.filter(pk=case.pk).delete()
    assert not any(p.exists() for p in paths)


def test_key_rotation_keeps_old_documents_readable(carol: Any, settings: Any) -> None:
    from cryptography.fernet import Fernet

    case = open_case()
    document = case.documents.first()
    before = crypto.decrypt(stored_bytes(document))
    settings.DOCUMENT_KEYS = [Fernet.generate_key().decode(), *settings.DOCUMENT_KEYS]
    assert crypto.decrypt(stored_bytes(document)) == before
    settings.DOCUMENT_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match=""):
        crypto.decrypt(stored_bytes(document))


def test_the_selfie_is_checked_re_encoded_encrypted_and_shown_to_the_reviewer(
    carol: Any, bob: Any, as_user: Any
) -> None:
    original = picture_with_exif("JPEG", size=(48, 64))
    case = open_case(selfie=SimpleUploadedFile("me.jpg", original, content_type="image/jpeg"))
    selfie = case.documents.get(side="selfie")
    raw = stored_bytes(selfie)
    assert b"SecretCam" not in raw and not raw.startswith(b"\xff\xd8")
    plain = crypto.decrypt(raw)
    assert plain != original and b"SecretCam" not in plain and selfie.metadata_stripped
    with Image.open(io.BytesIO(plain)) as image:
        assert image.format == "JPEG" and not image.getexif() and image.size == (48, 64)
    assert "3 identity document file(s)" in Ticket.objects.get(pk=case.ticket_id).messages.first().body
    page = as_user(bob).get(f"/agent/tickets/{case.ticket_reference}/").content.decode()
    assert f'href="{document_link(selfie)}"' in page and "Selfie holding the document" in page
    assert as_user(bob).get(document_link(selfie)).content == plain


@pytest.mark.parametrize(
    "name,data,message",
    [
        # A selfie must be a picture: only pixels can be re-encoded, a PDF keeps its metadata.
        (
            "me.pdf",
            b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
            "not a photo",
        ),
        # Named like a photo, but a program.
        ("me.jpg", b"MZ\x90\x00 this is a windows program" * 10, "not a photo or PDF"),
        ("me.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "could not be read"),
    ],
)
def test_a_bad_selfie_refuses_the_whole_case(carol: Any, name: str, data: bytes, message: str) -> None:
    response = Client().post("/account-recovery/", form(selfie=SimpleUploadedFile(name, data)))
    assert response.status_code == 400 and message in response.content.decode()
    assert not RecoveryCase.objects.exists() and not IdentityDocument.objects.exists()
    assert not Ticket.objects.exists()


def test_an_oversized_selfie_is_refused(carol: Any, settings: Any) -> None:
    small = picture_with_exif("PNG")
    settings.DOCUMENT_MAX_BYTES = len(small) + 1000
    big = Image.new("RGB", (400, 400))
    big.putdata([(i % 251, i % 241, i % 239) for i in range(400 * 400)])
    out = io.BytesIO()
    big.save(out, format="PNG")
    response = Client().post(
        "/account-recovery/",
        form(
            front=SimpleUploadedFile("f.png", small),
            back=None,
            selfie=SimpleUploadedFile("me.png", out.getvalue()),
        ),
    )
    assert response.status_code == 400 and "larger than" in response.content.decode()
    assert not RecoveryCase.objects.exists()


PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def test_a_recovery_phrase_in_every_field_is_never_stored(carol: Any) -> None:
    """Victims paste their phrase to "prove" the wallet is theirs. The story fields reach the
    ticket redacted; the address field refuses it; a file named after it keeps nothing of the
    name (stored files have random names)."""
    refused = Client().post("/account-recovery/", form(email=PHRASE))
    assert refused.status_code == 400 and not RecoveryCase.objects.exists()
    case = open_case(
        what_happened=f"My phrase is {PHRASE} please restore it",
        recent_activity=PHRASE,
        selfie=SimpleUploadedFile(f"{PHRASE}.jpg", picture_with_exif("JPEG")),
    )
    ticket = Ticket.objects.get(pk=case.ticket_id)
    stored = " ".join(m.body for m in ticket.messages.all()) + ticket.subject + str(ticket.facts)
    assert "sausage" not in stored and "[recovery phrase removed]" in stored
    assert "secret-removed" in ticket.tags
    for document in case.documents.all():
        assert "sausage" not in document.file.name
    assert not AuditEntry.objects.filter(data__icontains="sausage").exists()


def test_seeing_every_ticket_is_not_reviewing_documents(carol: Any, erin: Any, as_user: Any) -> None:
    """A supervisor who sees all tickets (`view_all_tickets`) reads the case's ticket, but its
    documents stay with the Security desk and the reviewers."""
    from django.contrib.auth.models import Permission

    from walletdesk.accounts.models import User

    erin.user_permissions.add(Permission.objects.get(codename="view_all_tickets"))
    supervisor = User.objects.get(pk=erin.pk)
    case = open_case()
    document = case.documents.first()
    page = as_user(supervisor).get(f"/agent/tickets/{case.ticket_reference}/")
    assert page.status_code == 200 and document_link(document) not in page.content.decode()
    assert as_user(supervisor).get(document_link(document)).status_code == 403
    assert as_user(make_reviewer(supervisor)).get(document_link(document)).status_code == 200
