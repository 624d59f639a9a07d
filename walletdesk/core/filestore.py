"""Which file storage holds attachments and identity documents, from the environment.

Read by settings (STORAGES["default"]) and by `walletdesk check-config`, so both refuse a
half-described bucket with the same words. Importing this costs nothing: botocore is loaded
only when a bucket is configured.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from walletdesk.core import env

S3_NAMES = (
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PREFIX",
)


def from_env() -> dict[str, object]:
    """Where attachments and identity documents live: files under MEDIA_ROOT, or an S3 bucket.

    Local files are the embedded default; they work for any number of processes on one machine.
    Web processes on several machines must share the files, so S3_BUCKET (any S3-compatible
    service: AWS, MinIO, Ceph, R2) puts them in a bucket through django-storages. Objects are
    private and read back by our views after a permission check (no public URL is ever given
    out), and identity documents are encrypted before they reach the storage (accounts.crypto).
    """
    bucket = env.string("S3_BUCKET", "")
    given = [name for name in S3_NAMES[1:] if env.string(name, "")]
    if not bucket:
        if given:
            raise ImproperlyConfigured(
                f"{', '.join(given)} set without S3_BUCKET: set S3_BUCKET or unset them."
            )
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    access, secret = env.string("S3_ACCESS_KEY_ID", ""), env.string("S3_SECRET_ACCESS_KEY", "")
    if bool(access) != bool(secret):
        # With neither, boto3 finds credentials itself (an instance role, AWS_* variables);
        # with one of the two, every upload would fail at the first customer's attachment.
        raise ImproperlyConfigured("Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither.")
    endpoint = env.string("S3_ENDPOINT_URL", "")
    if endpoint and (urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).hostname):
        raise ImproperlyConfigured(f"S3_ENDPOINT_URL must be an http(s) address; got {endpoint!r}.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint or None,
            "region_name": env.string("S3_REGION", "") or None,
            "access_key": access or None,
            "secret_key": secret or None,
            "location": env.string("S3_PREFIX", "").strip("/"),
            # Private objects, never a public-read ACL; names are content hashes or random, so a
            # write of an existing name is the same bytes (attachments) and needs no suffix.
            "default_acl": None,
            "file_overwrite": True,
            "querystring_auth": True,
            # A stalled bucket must not hold a web process for minutes.
            "client_config": _client_config(),
        },
    }


def _client_config() -> object:
    from botocore.config import Config

    return Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": "path" if env.string("S3_ENDPOINT_URL", "") else "auto"},
    )
