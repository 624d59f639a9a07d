"""Checks on uploaded files: the content decides the type, not the name."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from walletdesk.tickets.screening import screen_value

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
    def __init__(self, code: str, message: str, name: str = "", secret_kinds: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.name = name  # the screened name: safe to store in a note or an event
        self.secret_kinds = secret_kinds


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str
    secret_kinds: tuple[str, ...] = ()  # what the shield removed from the file's name

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


NEUTRAL_NAME = "attachment"
_NAME_SEPARATORS = re.compile(r"[._\-+]+")


def screened_name(name: str) -> tuple[str, tuple[str, ...]]:
    """A file name fit to store, show or log: one that held a secret becomes a neutral name
    (a placeholder inside a file name helps nobody), with the kinds of secret it held."""
    # The extension is cut off first ("… about.png" would hide the last word) and dots,
    # dashes and underscores count as spaces: file names rarely have spaces of their own.
    stem = os.path.splitext(name or "")[0]
    for candidate in (name or "", stem, _NAME_SEPARATORS.sub(" ", stem)):
        screened = screen_value(candidate)
        if screened.secret_kinds:
            return NEUTRAL_NAME, screened.secret_kinds
    return name, ()


def check_file(name: str, data: bytes, *, max_bytes: int | None = None) -> CheckedFile:
    # The name is screened first: it is quoted in refusals, notes and events, and stored.
    name, secrets = screened_name(name)
    limit = max_bytes if max_bytes is not None else settings.ATTACHMENT_MAX_BYTES

    def refuse(code: str, message: str) -> RejectedFile:
        return RejectedFile(code, message, name, secrets)

    if not data:
        raise refuse("empty_file", _("The file “%(name)s” is empty.") % {"name": name})
    if len(data) > limit:
        raise refuse(
            "file_too_large",
            _("The file “%(name)s” is larger than %(mb).1f MB.") % {"name": name, "mb": limit / 1_048_576},
        )
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise refuse(
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
        secret_kinds=secrets,
    )
