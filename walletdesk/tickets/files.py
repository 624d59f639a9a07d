"""Checks on uploaded files: the content decides the type, not the name."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

# Pictures and PDF: what users send to show an error screen, a receipt or a statement.
ALLOWED_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}


class RejectedFile(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


_UNSAFE = re.compile(r"[^\w.\- ()\u4e00-\u9fff]+")


def safe_filename(name: str, content_type: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip() or "file"
    base = _UNSAFE.sub("_", base)[:120]
    stem, _ext = os.path.splitext(base)
    # The extension follows the detected type, so a download never runs as something else.
    return (stem or "file") + ALLOWED_TYPES[content_type]


def check_file(name: str, data: bytes, *, max_bytes: int | None = None) -> CheckedFile:
    limit = max_bytes if max_bytes is not None else settings.ATTACHMENT_MAX_BYTES
    if not data:
        raise RejectedFile("empty_file", _("The file “%(name)s” is empty.") % {"name": name})
    if len(data) > limit:
        raise RejectedFile(
            "file_too_large",
            _("The file “%(name)s” is larger than %(mb).1f MB.") % {"name": name, "mb": limit / 1_048_576},
        )
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise RejectedFile(
            "file_type_not_allowed",
            _(
                "The file “%(name)s” is not a picture or PDF. Only JPEG, PNG, GIF, WebP, HEIC and PDF are accepted."
            )
            % {"name": name},
        )
    return CheckedFile(
        filename=safe_filename(name, kind.mime),
        content_type=kind.mime,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )
