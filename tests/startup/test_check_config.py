"""`walletdesk check-config`, run as a real process the way an operator runs it before a start.

A sound production environment (PostgreSQL, Redis, S3, TLS mail, strong keys, https) passes for
4 web processes and 2 workers on 2 machines; so does the embedded default with no environment at
all. Then each bad setting in turn, applied to the sound one, must fail with exactly the one line
that names it (and exit 1), never a traceback. The processes run side by side: each only imports
the settings module (about half a second of CPU).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "walletdesk check-config: "

SOUND = {
    "WALLETDESK_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DOCUMENT_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://walletdesk@db.internal:5432/walletdesk",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "S3_BUCKET": "walletdesk-files",
    "S3_ENDPOINT_URL": "https://s3.example.com",
    "S3_REGION": "eu-central-1",
    "S3_ACCESS_KEY_ID": "AKIAWALLETDESK",
    "S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
    "SITE_URL": "https://help.example.com",
    "ALLOWED_HOSTS": "help.example.com",
    "EMAIL_HOST": "smtp.example.com",
    "EMAIL_PORT": "587",
    "EMAIL_USE_TLS": "1",
    "EMAIL_HOST_USER": "desk",
    "EMAIL_HOST_PASSWORD": secrets.token_urlsafe(20),
    "METRICS_TOKEN": secrets.token_urlsafe(32),
}
LAYOUT = ("--web", "4", "--workers", "2", "--machines", "2")
UNSET = None


@dataclass(frozen=True)
class Case:
    changes: dict[str, str | None]
    expected: tuple[str, ...]  # one problem line each, in any order
    args: tuple[str, ...] = LAYOUT


BAD: dict[str, Case] = {
    "debug in production": Case({"DEBUG": "1"}, ("DEBUG is on with WALLETDESK_ENV=production",)),
    "short secret key": Case({"SECRET_KEY": "x" * 20}, ("SECRET_KEY is weak (shorter than 50",)),
    "django-insecure key": Case(
        {"SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(48)}, ("SECRET_KEY is weak",)
    ),
    "placeholder key": Case({"SECRET_KEY": "change-me-" * 6}, ("SECRET_KEY is weak",)),
    "no secret key": Case({"SECRET_KEY": UNSET}, ("SECRET_KEY is not set",)),
    "any host": Case({"ALLOWED_HOSTS": "help.example.com,*"}, ("ALLOWED_HOSTS contains '*'",)),
    "sqlite on two machines": Case({"DATABASE_URL": UNSET}, ("SQLite with --machines 2",)),
    "sqlite, several web processes": Case(
        {"DATABASE_URL": UNSET},
        ("2 web processes on SQLite in production",),
        ("--web", "2", "--machines", "1"),
    ),
    "no redis": Case({"REDIS_URL": UNSET}, ("4 web processes without REDIS_URL",)),
    "half the S3 keys": Case(
        {"S3_SECRET_ACCESS_KEY": UNSET}, ("Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",)
    ),
    "S3 without a bucket": Case(
        {"S3_BUCKET": UNSET},
        ("set without S3_BUCKET", "Files on the local disk with --machines 2"),
    ),
    "S3 endpoint not a URL": Case({"S3_ENDPOINT_URL": "s3.example.com"}, ("S3_ENDPOINT_URL must be",)),
    "no document key": Case({"DOCUMENT_KEYS": UNSET}, ("DOCUMENT_KEYS is not set",)),
    "document key not a key": Case(
        {"DOCUMENT_KEYS": "not-a-fernet-key"}, ("DOCUMENT_KEYS must be comma-separated Fernet keys",)
    ),
    "metrics token weak": Case({"METRICS_TOKEN": "metrics"}, ("METRICS_TOKEN is weak",)),
    "mail password in clear": Case(
        {"EMAIL_USE_TLS": "0"}, ("EMAIL_HOST_PASSWORD is set but EMAIL_USE_TLS is off",)
    ),
    "mail without TLS": Case(
        {"EMAIL_USE_TLS": UNSET, "EMAIL_HOST_PASSWORD": UNSET, "EMAIL_HOST_USER": UNSET},
        ("Mail to EMAIL_HOST=smtp.example.com goes without TLS",),
    ),
    "HSTS off": Case({"SECURE_HSTS_SECONDS": "0"}, ("HSTS is off behind HTTPS",)),
    "http site in production": Case(
        {"SITE_URL": "http://help.example.com"}, ("cookies are sent over HTTPS only",)
    ),
    "https without production's cookies": Case(
        {"WALLETDESK_ENV": "development"},
        ("SESSION_COOKIE_SECURE is off behind HTTPS", "CSRF_COOKIE_SECURE is off", "HSTS is off"),
    ),
    "a bad number": Case({"EMAIL_USE_TLS": "maybe"}, ("EMAIL_USE_TLS must be one of",)),
}


def _env(tmp: Path, changes: dict[str, str | None] | None) -> dict[str, str]:
    # Nothing of the tests' own environment (their database, keys, services) leaks in.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "PYTHONPATH": str(ROOT),
        "WALLETDESK_DATA_DIR": str(tmp / "var"),
    }
    for name, value in (changes or {}).items():
        if value is not None:
            env[name] = value
    return env


def _run(tmp: Path, env: dict[str, str], args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    tmp.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "walletdesk.cli", "check-config", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    base = tmp_path_factory.mktemp("check-config")
    jobs: dict[str, tuple[Path, dict[str, str], tuple[str, ...]]] = {
        "sound": (base / "sound", _env(base / "sound", SOUND), LAYOUT),
        "embedded": (base / "embedded", _env(base / "embedded", {}), ()),
    }
    for i, (name, case) in enumerate(BAD.items()):
        where = base / f"bad{i}"
        jobs[name] = (where, _env(where, SOUND | case.changes), case.args)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, *job) for name, job in jobs.items()}
        yield {name: future.result() for name, future in futures.items()}


def _problems(done: subprocess.CompletedProcess[str]) -> list[str]:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert all(line.startswith(PREFIX) for line in lines), done.stderr  # no traceback, no noise
    return [line[len(PREFIX) :] for line in lines if "problem(s)" not in line]


def test_a_sound_production_layout_passes(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = results["sound"]
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(PREFIX + "OK")
    assert "4 web process(es), 2 task worker(s), 2 machine(s)" in done.stdout
    assert "PostgreSQL" in done.stdout and "Redis (shared)" in done.stdout
    assert "S3 bucket walletdesk-files" in done.stdout and "with TLS" in done.stdout
    # What it prints names no secret.
    for name in (
        "SECRET_KEY",
        "DOCUMENT_KEYS",
        "S3_SECRET_ACCESS_KEY",
        "EMAIL_HOST_PASSWORD",
        "METRICS_TOKEN",
    ):
        assert SOUND[name] not in done.stdout


def test_the_embedded_default_passes_and_says_what_it_checked(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = results["embedded"]
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "embedded/development" in out and "2 web process(es)" in out
    assert "SQLite" in out and "bridged through the database" in out
    assert "local files" in out and "outbox" in out and "keys generated once" in out


@pytest.mark.parametrize("name", list(BAD))
def test_each_bad_setting_is_refused_with_its_own_line(
    name: str, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    done, case = results[name], BAD[name]
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    problems = _problems(done)
    assert len(problems) == len(case.expected), problems
    for expected in case.expected:
        assert sum(expected in line for line in problems) == 1, (expected, problems)
    # A refusal never repeats the secret it refuses.
    for secret in ("SECRET_KEY", "METRICS_TOKEN", "EMAIL_HOST_PASSWORD"):
        value = case.changes.get(secret) or SOUND[secret]
        assert value not in done.stderr


def test_a_layout_that_makes_no_sense_is_one_line(tmp_path: Path) -> None:
    done = _run(tmp_path, _env(tmp_path, {}), ("--web", "0"))
    assert done.returncode == 1
    assert done.stderr.strip() == "walletdesk: --web, --workers and --machines must be at least 1."
    done = _run(tmp_path, _env(tmp_path, {"WEB_CONCURRENCY": "many"}), ())
    assert done.returncode == 1 and "WEB_CONCURRENCY must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr
