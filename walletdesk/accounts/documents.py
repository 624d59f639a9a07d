"""Identity-document uploads: the content decides the type, images lose their metadata.

Accounts cannot import `tickets.files` (the dependency runs the other way), so the same idea
lives here, narrowed to what an identity document can be: a photo (JPEG, PNG, WebP) or a PDF.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
ALLOWED_TYPES = (*IMAGE_TYPES, "application/pdf")
# A phone photo of a card is ~12 MP; anything far beyond is a decompression bomb, not an ID.
MAX_PIXELS = 50_000_000


class DocumentRejected(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PreparedDocument:
    """A checked upload, ready to encrypt. `data` is what will be stored (after stripping)."""

    kind: str
    side: str
    content_type: str
    data: bytes
    metadata_stripped: bool


def _strip_image(data: bytes, content_type: str) -> bytes:
    """Decode and re-encode: only pixels survive (no EXIF, GPS, XMP, text chunks, thumbnails)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise DocumentRejected("image_too_large", _("This picture is too large."))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                # Keep the photo the right way up before the orientation tag is dropped.
                upright = ImageOps.exif_transpose(image)
                fmt = IMAGE_TYPES[content_type]
                if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                clean = Image.new(upright.mode, upright.size)
                clean.paste(upright)
                if upright.mode == "P" and upright.getpalette():
                    clean.putpalette(upright.getpalette() or [])
                out = io.BytesIO()
                options: dict[str, object] = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
                clean.save(out, format=fmt, **options)
                return out.getvalue()
    except DocumentRejected:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DocumentRejected("unreadable_image", _("This picture could not be read.")) from None


def prepare(name: str, data: bytes, *, kind: str, side: str, photo_only: bool = False) -> PreparedDocument:
    """Check an upload by its content and size; `photo_only` (the selfie) refuses a PDF, since
    only a picture can be re-encoded to keep nothing but its pixels."""
    label = name or _("file")
    if not data:
        raise DocumentRejected("empty_file", _("The file “%(name)s” is empty.") % {"name": label})
    limit = settings.DOCUMENT_MAX_BYTES
    if len(data) > limit:
        raise DocumentRejected(
            "file_too_large",
            _("The file “%(name)s” is larger than %(mb).1f MB.") % {"name": label, "mb": limit / 1_048_576},
        )
    guessed = filetype.guess(data[:8192])
    if guessed is None or guessed.mime not in ALLOWED_TYPES:
        raise DocumentRejected(
            "file_type_not_allowed",
            _("The file “%(name)s” is not a photo or PDF. Send a JPEG, PNG, WebP or PDF.") % {"name": label},
        )
    if photo_only and guessed.mime not in IMAGE_TYPES:
        raise DocumentRejected(
            "photo_required",
            _("The file “%(name)s” is not a photo. Send a JPEG, PNG or WebP picture.") % {"name": label},
        )
    if guessed.mime == "application/pdf":
        # PDFs are kept as sent: rewriting them safely needs a PDF library we do not ship.
        return PreparedDocument(kind, side, guessed.mime, data, metadata_stripped=False)
    return PreparedDocument(
        kind, side, guessed.mime, _strip_image(data, guessed.mime), metadata_stripped=True
    )
