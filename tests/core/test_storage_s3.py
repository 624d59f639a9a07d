"""Attachments and identity documents in an S3-compatible bucket (issue #23's production layout).

The bucket is a real S3 server on loopback (moto's server mode, spoken to over HTTP by
django-storages and boto3 exactly as AWS or MinIO would be); the storage is chosen the way
production chooses it, from the S3_* environment through settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.accounts.conftest import picture_with_exif
from tests.servers import free_port
from walletdesk.accounts import actions as account_actions
from walletdesk.accounts import crypto
from walletdesk.accounts.models import IdentityDocument, RecoveryCase
from walletdesk.core import filestore
from walletdesk.tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent.parent / "fixtures" / "files"
KEY_ID, SECRET = "walletdesk-test", "walletdesk-test-secret"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def _use_bucket(monkeypatch: pytest.MonkeyPatch, settings: Any, endpoint: str, bucket: str) -> None:
    """Select the bucket as an operator does: the S3_* environment, read by settings."""
    for name, value in {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": KEY_ID,
        "S3_SECRET_ACCESS_KEY": SECRET,
        "S3_PREFIX": "desk",
    }.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": filestore.from_env()}


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch, settings: Any, s3_endpoint: str) -> Any:
    name = f"desk-{uuid.uuid4().hex[:12]}"
    client = _client(s3_endpoint)
    client.create_bucket(Bucket=name)
    _use_bucket(monkeypatch, settings, s3_endpoint, name)

    class Bucket:
        def objects(self) -> dict[str, bytes]:
            listed = client.list_objects_v2(Bucket=name).get("Contents", [])
            return {o["Key"]: client.get_object(Bucket=name, Key=o["Key"])["Body"].read() for o in listed}

    return Bucket()


def test_settings_choose_the_bucket_only_when_it_is_fully_described(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    # The embedded default: files on the local disk.
    assert filestore.from_env()["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://minio:9000")
    with pytest.raises(ImproperlyConfigured, match="without S3_BUCKET"):
        filestore.from_env()
    monkeypatch.setenv("S3_BUCKET", "desk")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "only-half")
    with pytest.raises(ImproperlyConfigured, match="both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"):
        filestore.from_env()
    monkeypatch.delenv("S3_ACCESS_KEY_ID")
    monkeypatch.setenv("S3_ENDPOINT_URL", "minio:9000")
    with pytest.raises(ImproperlyConfigured, match="S3_ENDPOINT_URL"):
        filestore.from_env()
    # No keys at all is allowed: boto3 then finds an instance role's credentials.
    monkeypatch.setenv("S3_ENDPOINT_URL", "https://s3.example.com")
    chosen = filestore.from_env()
    assert chosen["BACKEND"] == "storages.backends.s3.S3Storage"
    options: Any = chosen["OPTIONS"]
    assert options["default_acl"] is None and options["querystring_auth"] is True


def test_a_customers_attachment_goes_to_the_bucket_and_back_only_to_her(
    bucket: Any, carol: Any, dave: Any, as_user: Any, settings: Any
) -> None:
    picture = (FILES / "screenshot.png").read_bytes()
    response = as_user(carol).post(
        "/new/",
        {
            "category": "other",
            "subject": "Where is my withdrawal",
            "body": "The app shows error 1003, screenshot attached.",
            "attachments": [SimpleUploadedFile("screen.png", picture)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = Attachment.objects.get()
    # In the bucket, under the prefix, named by content hash; nothing on the local disk.
    assert bucket.objects() == {f"desk/{item.file.name}": picture}
    assert not (Path(settings.MEDIA_ROOT) / "attachments").exists()
    url = f"/files/{item.pk}/"
    download = as_user(carol).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == picture
    assert "attachment" in download["Content-Disposition"]
    # Another customer and a stranger are refused alike, and learn nothing.
    for who in (dave, None):
        refused = as_user(who).get(url)
        assert refused.status_code == 404
        assert picture not in refused.content


def test_identity_documents_reach_the_bucket_only_as_ciphertext(
    bucket: Any, bob: Any, dave: Any, root: Any, as_user: Any
) -> None:
    original = picture_with_exif("JPEG")
    response = Client().post(
        "/account-recovery/",
        {
            "email": "carol@example.com",
            "what_happened": "My password was changed last night and I cannot sign in any more.",
            "recent_activity": "I signed in from my iPhone on Monday.",
            "document_kind": "id_card",
            "front": SimpleUploadedFile("front.jpg", original, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document = IdentityDocument.objects.get()
    stored = bucket.objects()
    assert list(stored) == [f"desk/{document.file.name}"]
    ciphertext = stored[f"desk/{document.file.name}"]
    # A Fernet token: no JPEG header, no EXIF, no pixels the bucket's owner could read.
    assert ciphertext.startswith(b"gAAAAA")
    assert b"\xff\xd8\xff" not in ciphertext and b"SecretCam" not in ciphertext
    plain = crypto.decrypt(ciphertext)
    assert plain.startswith(b"\xff\xd8\xff") and b"SecretCam" not in plain
    # The Security desk's reviewer reads it back through the bucket, decrypted.
    link = f"/agent/documents/{document.public_id}/"
    seen = as_user(bob).get(link)
    assert seen.status_code == 200 and seen.content == plain
    # A customer (not even the one who sent it) never gets it.
    refused = as_user(dave).get(link)
    assert refused.status_code == 403 and plain not in refused.content
    # Deleting the case deletes the object from the bucket too.
    account_actions.delete_recovery_case(document.case, actor=root, reason="duplicate")
    assert bucket.objects() == {}


def test_a_failed_upload_files_nothing_and_says_try_again(
    monkeypatch: pytest.MonkeyPatch, settings: Any, s3_endpoint: str, carol: Any, as_user: Any
) -> None:
    """The bucket refuses every write (it does not exist: a typo, a deleted bucket, lost access)."""
    _use_bucket(monkeypatch, settings, s3_endpoint, f"missing-{uuid.uuid4().hex[:8]}")
    response = as_user(carol).post(
        "/new/",
        {
            "category": "other",
            "subject": "Where is my withdrawal",
            "body": "Screenshot attached.",
            "attachments": [SimpleUploadedFile("screen.png", (FILES / "screenshot.png").read_bytes())],
        },
    )
    assert response.status_code == 503
    page = response.content.decode()
    assert "could not be stored just now" in page and "Where is my withdrawal" in page  # her text is kept
    assert not Ticket.objects.exists() and not Message.objects.exists() and not Attachment.objects.exists()
    # The recovery form: no case, no ticket, no document row.
    response = Client().post(
        "/account-recovery/",
        {
            "email": "carol@example.com",
            "what_happened": "My password was changed last night and I cannot sign in any more.",
            "recent_activity": "I signed in from my iPhone on Monday.",
            "document_kind": "id_card",
            "front": SimpleUploadedFile("front.jpg", picture_with_exif("JPEG"), content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400
    assert "could not be stored just now" in response.content.decode()
    assert not RecoveryCase.objects.exists() and not IdentityDocument.objects.exists()
    assert not Ticket.objects.exists()
