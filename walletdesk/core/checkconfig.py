"""`walletdesk check-config`: refuse an insecure or inconsistent deployment before it serves.

Settings already stop a process on a value they cannot use (a bad number, DEBUG on in
production). This looks at the deployment as a whole, the way an operator describes it: the
environment, plus how many web processes, task workers and machines will share it (flags,
since no single process can know). Every problem is one line naming what to change; the exit
status is 1 if there is any. It reads the settings module only (no app is loaded, no database
or network is touched), so it is cheap to run before every start, e.g. as a container's first
step.
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from walletdesk.core import env, filestore

# The shortest token we accept for a bearer token guarding operational data (metrics).
MIN_TOKEN_LENGTH = 32
# Placeholders people copy from examples and forget to change.
_PLACEHOLDERS = ("change-me", "changeme", "replace-me", "example", "secret", "insecure", "password")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


@dataclass(frozen=True)
class Layout:
    """How many processes share this configuration: web processes in total, task workers in
    total, and the machines they run on."""

    web: int
    workers: int
    machines: int


def _is_local(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _weak_secret(value: str, *, minimum: int) -> str | None:
    """Why `value` is a weak secret, or None."""
    if len(value) < minimum:
        return f"shorter than {minimum} characters"
    if len(set(value)) < 10:
        return "too few different characters"
    lowered = value.lower()
    for word in _PLACEHOLDERS:
        if word in lowered:
            return f"contains the placeholder word {word!r}"
    return None


def _environment_problems(layout: Layout) -> list[str]:
    """What the environment alone says is wrong: checked before settings load, so every
    problem is reported at once instead of the first one settings would stop at."""
    problems: list[str] = []

    def read[T](parse: Callable[[], T], fallback: T) -> T:
        try:
            return parse()
        except ImproperlyConfigured as exc:
            problems.append(str(exc))
            return fallback

    production = (
        read(lambda: env.choice("WALLETDESK_ENV", ("development", "production", "test"), "development"), "")
        == "production"
    )
    debug = read(lambda: env.boolean("DEBUG", False), False)
    if production and debug:
        problems.append(
            "DEBUG is on with WALLETDESK_ENV=production: error pages would show code and settings "
            "to anyone; set DEBUG=0."
        )

    secret_key = env.string("SECRET_KEY", "")
    if secret_key:
        weak = _weak_secret(secret_key, minimum=50)
        if weak or secret_key.startswith("django-insecure"):
            problems.append(
                f"SECRET_KEY is weak ({weak or 'a django-insecure key'}): use 50+ random characters, "
                "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(64))'."
            )
    elif production:
        problems.append("SECRET_KEY is not set: production needs 50+ random characters of its own.")
    elif layout.machines > 1:
        problems.append(
            f"SECRET_KEY is not set with --machines {layout.machines}: each machine would generate "
            "its own, and a session signed on one would be refused on the others; set it everywhere."
        )

    document_keys = env.csv("DOCUMENT_KEYS", [])
    bucket = env.string("S3_BUCKET", "")
    if not document_keys:
        if production:
            problems.append(
                "DOCUMENT_KEYS is not set: identity documents need an encryption key of their own "
                "in production (python3 -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            )
        elif bucket or layout.machines > 1:
            problems.append(
                "DOCUMENT_KEYS is not set while files are shared (S3_BUCKET or several machines): "
                "each machine would encrypt identity documents with a key generated in its own data "
                "directory, unreadable elsewhere and lost with it; set DOCUMENT_KEYS everywhere."
            )

    hosts = env.csv("ALLOWED_HOSTS", [])
    if "*" in hosts:
        problems.append(
            "ALLOWED_HOSTS contains '*': any Host header would be believed (poisoned links, cache "
            "keys); list the site's host names."
        )

    database = env.string("DATABASE_URL", "")
    sqlite = not database or database.startswith("sqlite")
    redis = env.string("REDIS_URL", "")
    if sqlite and layout.machines > 1:
        problems.append(
            f"SQLite with --machines {layout.machines}: the database is one file on one machine; "
            "set DATABASE_URL to a PostgreSQL server every machine reaches."
        )
    elif production and sqlite and layout.web > 1:
        problems.append(
            f"{layout.web} web processes on SQLite in production: every write waits on one file "
            "lock and nothing can move to a second machine; set DATABASE_URL to PostgreSQL "
            "(or run one web process: WEB_CONCURRENCY=1)."
        )
    if not redis and (layout.machines > 1 or (production and layout.web > 1)):
        problems.append(
            f"{layout.web} web processes without REDIS_URL: the cache, sign-in rate limits and "
            "live-chat layer would be per process (each allowing the full limit); set REDIS_URL "
            "to a Redis every process reaches."
        )
    if layout.machines > 1 and not bucket:
        problems.append(
            f"Files on the local disk with --machines {layout.machines}: an attachment uploaded on "
            "one machine would be missing on the others; set S3_BUCKET (and the S3_* settings)."
        )
    try:
        filestore.from_env()
    except ImproperlyConfigured as exc:
        problems.append(str(exc))

    smtp_host = env.string("EMAIL_HOST", "localhost" if production else "")
    # An unreadable value is reported once, as such, not again as "TLS off".
    use_tls = read(lambda: env.boolean("EMAIL_USE_TLS", False), True)
    if smtp_host and not use_tls:
        if env.string("EMAIL_HOST_PASSWORD", ""):
            problems.append(
                f"EMAIL_HOST_PASSWORD is set but EMAIL_USE_TLS is off: the password would cross the "
                f"network to {smtp_host} in clear; set EMAIL_USE_TLS=1."
            )
        elif production and not _is_local(smtp_host):
            problems.append(
                f"Mail to EMAIL_HOST={smtp_host} goes without TLS: reset links and security notices "
                "would travel in clear; set EMAIL_USE_TLS=1 (or relay through a local MTA)."
            )

    # /metrics exists only with a token (core.metrics), so the token is the one thing to check.
    metrics_token = env.string("METRICS_TOKEN", "")
    if metrics_token and _weak_secret(metrics_token, minimum=MIN_TOKEN_LENGTH):
        problems.append(
            f"METRICS_TOKEN is weak ({_weak_secret(metrics_token, minimum=MIN_TOKEN_LENGTH)}): "
            f"use {MIN_TOKEN_LENGTH}+ random characters."
        )
    return problems


def _settings_problems(conf: ModuleType, layout: Layout) -> list[str]:
    """What the loaded settings say: the values settings derive, which a custom settings
    module (or a future default) could get wrong even when the environment looks right."""
    problems: list[str] = []
    site = urlsplit(conf.SITE_URL)
    https = site.scheme == "https"
    production = bool(conf.PRODUCTION)
    if production and not https:
        problems.append(
            f"SITE_URL is {conf.SITE_URL} in production: cookies are sent over HTTPS only, so nobody "
            "could sign in, and links in mail would travel in clear; serve and set an https:// address."
        )
    if production and _is_local(site.hostname or ""):
        problems.append(
            f"SITE_URL is {conf.SITE_URL} in production: links in mail would point at this machine; "
            "set the public address."
        )
    if https:
        for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
            if not getattr(conf, name, False):
                problems.append(
                    f"{name} is off behind HTTPS (SITE_URL {conf.SITE_URL}): the cookie would also be "
                    "sent over plain http; set WALLETDESK_ENV=production."
                )
        if getattr(conf, "SECURE_HSTS_SECONDS", 0) <= 0:
            problems.append(
                f"HSTS is off behind HTTPS (SITE_URL {conf.SITE_URL}): a browser could be downgraded "
                "to http on its next visit; leave SECURE_HSTS_SECONDS unset (a year) or above 0."
            )
    if getattr(conf, "DEBUG", False) and production:  # a custom settings module
        problems.append("DEBUG is on in production; set DEBUG=0.")
    return problems


def _summary(conf: ModuleType, layout: Layout) -> list[str]:
    """What was checked, in the words an operator would use."""
    database = conf.DATABASES["default"]
    engine = "PostgreSQL" if "postgresql" in database["ENGINE"] else "SQLite"
    where = "" if engine == "PostgreSQL" else f" in {database['NAME']}"
    storage: dict[str, Any] = conf.STORAGES["default"]
    files = (
        f"S3 bucket {storage['OPTIONS']['bucket_name']}"
        if "s3" in storage["BACKEND"]
        else f"local files in {conf.MEDIA_ROOT}"
    )
    mailer = conf.MAILERS["default"]
    mail = (
        f"SMTP {mailer['OPTIONS']['host']}:{mailer['OPTIONS']['port']}"
        + (" with TLS" if mailer["OPTIONS"]["use_tls"] else "")
        if "OPTIONS" in mailer
        else "kept in the outbox for agents to read (no mail leaves the machine)"
    )
    keys = (
        "SECRET_KEY and DOCUMENT_KEYS from the environment"
        if os.environ.get("SECRET_KEY") and os.environ.get("DOCUMENT_KEYS")
        else f"keys generated once into {conf.DATA_DIR}"
    )
    mode = "production" if conf.PRODUCTION else "embedded/development"
    return [
        f"mode: {mode}; layout: {layout.web} web process(es), {layout.workers} task worker(s), "
        f"{layout.machines} machine(s)",
        f"database: {engine}{where}; cache and chat layer: "
        + ("Redis (shared)" if conf.REDIS_URL else "in each process, bridged through the database"),
        f"files: {files}; identity documents encrypted before storage",
        f"mail: {mail}",
        f"secrets: {keys}; site: {conf.SITE_URL}",
    ]


def run(layout: Layout, *, out: Any = None, err: Any = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    problems = _environment_problems(layout)
    conf: ModuleType | None = None
    if not problems:
        # Settings stop at their first refusal; with the environment clean there is at most one.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
        try:
            conf = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
        except ImproperlyConfigured as exc:
            problems.append(str(exc))
    if conf is not None:
        problems.extend(_settings_problems(conf, layout))
    for problem in problems:
        print(f"walletdesk check-config: {problem}", file=err)
    if problems:
        print(
            f"walletdesk check-config: {len(problems)} problem(s); fix them before starting walletdesk.",
            file=err,
        )
        return 1
    assert conf is not None
    print("walletdesk check-config: OK", file=out)
    for line in _summary(conf, layout):
        print(f"  {line}", file=out)
    return 0
