"""A full disk under the data directory, with real processes: the SQLite file, the attachments
and the worker's files all live on a small tmpfs that the test fills to the last byte.

While it is full, a customer sending a request with a screenshot (the portal form) and a guest
using the API get a 503 with Retry-After (a page, or JSON), never a 500; /readyz says the
instance is not ready while /healthz stays up. Nothing is half-written: no ticket without its
message, no attachment row whose file is missing or cut short, and the partial file the failed
upload began is removed, so the same screenshot sent again later is stored whole (before the
fix, Django's storage left the truncated file under the content's name and the next upload of
that file pointed its row at it). Once space returns, the same requests succeed.

Needs root and `mount -t tmpfs` (the CI machine has both); skipped where mounting is refused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import sqlite3
import subprocess
import tempfile
import unittest
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.faults.stack import Stack, call

SIZE_MB = 48


@contextlib.contextmanager
def small_disk() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="wd-faults-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0755", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        raise unittest.SkipTest(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill(path: Path) -> int:
    """Write `path` until the file system has no byte left; how many bytes it took."""
    written = 0
    with path.open("wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 12, 1):
            block = b"\0" * chunk
            while True:
                try:
                    written += out.write(block) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return written


def png(seed: str, size: int = 300_000) -> bytes:
    """A 'screenshot' of `size` bytes: a PNG signature (what the upload check reads) and noise."""
    noise = hashlib.shake_256(seed.encode()).digest(size)
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise


@dataclass
class Site:
    stack: Stack
    disk: Path

    def db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.disk / "walletdesk.sqlite3", timeout=30)
        # The schema's CHECK constraints use REGEXP, which Django's backend registers.
        db.create_function("REGEXP", 2, lambda pattern, value: bool(re.search(pattern, value or "")))
        return db


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with small_disk() as disk:
        stack = Stack(
            disk,
            {
                "HELPER_PROCESSES": "0",
                "LOG_LEVEL": "WARNING",
                "RATE_LIMIT_GUEST_TICKET": "100000/h/ip,100/h/email",
                "READYZ_MIN_FREE_MB": "1",
                # Where uploads spill to disk (over 2.5 MB): not our small disk.
                "TMPDIR": tempfile.gettempdir(),
            },
        )
        try:
            stack.migrate()
            stack.start_worker()
            stack.start_web()
            yield Site(stack, disk)
        finally:
            stack.stop()


def _file_request(base: str, email: str, attachment: bytes) -> requests.Response:
    person = requests.Session()
    person.cookies.set("django_language", "en")
    form = person.get(f"{base}/new/?category=other", timeout=30)
    assert form.status_code == 200, form.text[:2000]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token
    return person.post(
        f"{base}/new/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "category": "other",
            "email": email,
            "subject": "App shows a blank balance",
            "body": "Screenshot attached.",
        },
        files=[("attachments", ("screenshot.png", attachment, "image/png"))],
        allow_redirects=False,
        timeout=60,
    )


def _api_ticket(base: str, email: str) -> tuple[int, dict[str, str], bytes]:
    answer = call(f"{base}/api/v1/tickets", {"email": email, "subject": "Swap failed", "body": "It failed."})
    return answer.status, answer.headers, answer.body


def _nothing_half_written(site: Site) -> None:
    db = site.db()
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        bare = db.execute(
            "SELECT count(*) FROM tickets_ticket t WHERE NOT EXISTS "
            "(SELECT 1 FROM tickets_message m WHERE m.ticket_id = t.id)"
        ).fetchone()
        assert bare == (0,), "a ticket without its message"
        rows = db.execute("SELECT file, size, sha256 FROM tickets_attachment").fetchall()
    finally:
        db.close()
    media = site.disk / "media"
    for name, size, sha in rows:
        stored = media / name
        assert stored.exists(), f"attachment row without its file: {name}"
        data = stored.read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha, f"cut-short file {name}"


def test_full_disk_answers_503_writes_nothing_half_and_recovers(site: Site) -> None:
    base = site.stack.base
    # Healthy first: a request with a screenshot is filed.
    ok = _file_request(base, "before@example.com", png("before"))
    assert ok.status_code == 302 and "/submitted/" in ok.headers["Location"], ok.text[-2000:]
    _nothing_half_written(site)

    filler = site.disk / "filler"
    taken = fill(filler)
    assert taken > 0
    screenshot = png("during-the-outage")
    digest = hashlib.sha256(screenshot).hexdigest()
    try:
        page = _file_request(base, "during@example.com", screenshot)
        assert page.status_code == 503, page.text[-2000:]
        assert page.headers.get("Retry-After")
        assert "Temporarily unavailable" in page.text and "服务暂时无法使用" in page.text
        # The upload's partial file is gone: nothing under the content's name.
        assert not list((site.disk / "media").rglob(digest + "*"))
        # The API: a 503 in JSON, or (when SQLite still had room in its log) a ticket filed whole.
        answers = [_api_ticket(base, f"api-{i}@example.com") for i in range(5)]
        assert {status for status, _, _ in answers} <= {201, 503}, answers
        assert any(status == 503 for status, _, _ in answers), answers
        for status, headers, body in answers:
            if status == 503:
                assert headers.get("retry-after") and b'"unavailable"' in body
        assert call(f"{base}/healthz").status == 200
        assert call(f"{base}/readyz").status == 503
        _nothing_half_written(site)
    finally:
        filler.unlink()

    # Space is back: the same screenshot is filed, stored whole.
    again = _file_request(base, "during@example.com", screenshot)
    assert again.status_code == 302, again.text[-2000:]
    assert _api_ticket(base, "after@example.com")[0] == 201
    assert call(f"{base}/readyz").status == 200
    _nothing_half_written(site)
    stored = list((site.disk / "media").rglob(digest + "*"))
    assert len(stored) == 1 and stored[0].read_bytes() == screenshot
    assert os.statvfs(site.disk).f_bfree > 0
