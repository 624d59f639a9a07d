"""Make attachment filenames from strangers safe to store and to offer for download.

Pure module (no Django). A filename in a mail is attacker-controlled: it may carry a path
("../../etc/passwd", "C:\\x\\y"), control characters, right-to-left overrides that disguise
"gpj.exe" as "exe.jpg", Windows device names, or hundreds of bytes. We keep what a person
would recognise (Chinese names stay Chinese) and remove everything else.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from functools import cache

__all__ = ["safe_filename"]

_MAX_BYTES = 180  # well under the 255-byte limit of common filesystems, leaving room for prefixes
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+')
_WINDOWS_DEVICES = re.compile(r"^(?:con|prn|aux|nul|com\d|lpt\d)(?:\..*)?$", re.IGNORECASE)


def safe_filename(name: str | None, content_type: str, *, index: int = 0) -> str:
    """A safe basename for ``name``; a generated one ("attachment-1.pdf") when nothing is left."""
    cleaned = ""
    if name:
        cleaned = unicodedata.normalize("NFC", name)
        cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1]
        cleaned = "".join(ch for ch in cleaned if not 0xD800 <= ord(ch) <= 0xDFFF)
        cleaned = _UNSAFE.sub("_", cleaned)
        cleaned = " ".join(cleaned.split())
        cleaned = cleaned.strip(" .")
        if _WINDOWS_DEVICES.match(cleaned):
            cleaned = "_" + cleaned
        cleaned = _truncate(cleaned)
    if not cleaned or set(cleaned) <= {"_"}:
        cleaned = f"attachment-{index + 1}{_extension(content_type)}"
    return cleaned


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= _MAX_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = _MAX_BYTES - len(suffix.encode("utf-8"))
    encoded = stem.encode("utf-8")[:budget]
    return encoded.decode("utf-8", "ignore").rstrip(" .") + suffix


@cache
def _extension(content_type: str) -> str:
    if content_type == "message/rfc822":
        return ".eml"
    if content_type.startswith(("text/plain", "message/", "text/rfc822")):
        return ".txt"
    return mimetypes.guess_extension(content_type, strict=False) or ".bin"
