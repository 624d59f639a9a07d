"""The parts of the full-disk behaviour that need no real disk (test_disk_full.py fills one):
which errors count as "try again later", and what a cut-short attachment write leaves."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from walletdesk.core.views import is_outage
from walletdesk.tickets.actions import _helpers
from walletdesk.tickets.actions.errors import StorageUnavailable
from walletdesk.tickets.files import check_file

DATA = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + hashlib.shake_256(b"shot").digest(200_000)


def test_disk_errors_are_outages_and_other_file_errors_are_not() -> None:
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS):
        assert is_outage(OSError(code, "no space"))
    assert not is_outage(OSError(errno.ENOENT, "missing"))
    assert not is_outage(PermissionError(errno.EACCES, "denied"))  # a bug in the install: a 500
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = OSError(errno.ENOSPC, "no space")
    assert is_outage(wrapped)


class HalfThenFull(ContentFile):
    """Writes half of the data, then the disk is full (as a real ENOSPC mid-write)."""

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield self.file.getvalue()[: len(DATA) // 2]
        raise OSError(errno.ENOSPC, "No space left on device")


def _stored(checked: Any) -> Path:
    return Path(default_storage.path(f"attachments/{checked.sha256[:2]}/{checked.sha256}"))


def test_a_write_cut_short_leaves_no_file_and_the_next_upload_is_stored_whole(monkeypatch: Any) -> None:
    checked = check_file("shot.png", DATA)
    monkeypatch.setattr(_helpers, "ContentFile", HalfThenFull)
    with pytest.raises(StorageUnavailable) as failed:  # the customer is told to send again (503)
        _helpers._save_files([checked])
    assert isinstance(failed.value.__context__, OSError) and failed.value.__context__.errno == errno.ENOSPC
    assert not _stored(checked).exists()  # Django's storage would have left half of it
    monkeypatch.undo()
    [(_, name)] = _helpers._save_files([checked])
    assert Path(default_storage.path(name)).read_bytes() == DATA


def test_a_cut_short_file_found_under_the_content_name_is_written_again() -> None:
    checked = check_file("shot.png", DATA)
    path = _stored(checked)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DATA[:1000])  # left by a crash before the fix, or by a kill -9 mid-write
    [(_, name)] = _helpers._save_files([checked])
    assert Path(default_storage.path(name)).read_bytes() == DATA
