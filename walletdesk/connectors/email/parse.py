"""Parse one raw mail (bytes from IMAP, a pipe or a test) into plain, safe data.

Pure module (no Django imports): the email connector turns a ``ParsedMail`` into an inbound
message and hands it to ``tickets.actions``.

Why it looks like this:

- Speed. The stdlib ``email`` parser with ``policy=compat32`` is several times faster than
  ``policy.default``, whose header objects re-parse every header eagerly. We keep compat32's
  raw, surrogate-escaped header strings and decode only the headers we use ourselves, with
  our own charset fallbacks (see ``charsets``), which is also what makes broken mail readable.
- Never lose a mail. Bad charsets, broken encoded words, truncated MIME, bad base64 and garbage
  dates all parse, with a note in ``charset_notes`` or ``defects``. ``UnparseableMail`` is only
  for input with nothing in it. An unexpected bug in a field extractor degrades to a minimal
  ``ParsedMail`` (raw text, an "internal error" defect) instead of dropping the mail.
- No surrogates escape. compat32 keeps undecodable bytes as lone surrogates; every string
  leaving this module is real text (databases reject lone surrogates).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from io import BytesIO
from typing import Any

import nh3

from .charsets import decode_bytes, decode_header_value, header_bytes
from .filenames import safe_filename
from .loops import auto_reply_reason
from .quoting import strip_quoted

__all__ = ["ParsedAttachment", "ParsedMail", "UnparseableMail", "html_to_text", "parse_mail", "sanitise_html"]

logger = logging.getLogger(__name__)

_MAX_DEPTH = 40  # MIME nesting deeper than this is an attack, not a mail
_MAX_REFERENCES = 100  # keep the first and the most recent ones; threading needs no more
_MAX_ID_LENGTH = 998  # RFC 5322 line limit; protects indexed DB columns


class UnparseableMail(Exception):
    """Raised only when the input holds nothing usable (empty, or neither headers nor body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str  # decoded (RFC 2047 / RFC 2231) and sanitised to a safe basename
    content_type: str  # as declared, lowercased ("application/octet-stream" when absent)
    payload: bytes = field(repr=False)
    size: int
    content_id: str | None  # without <>; set for inline images referenced as cid:...
    inline: bool


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None  # without <>; None when absent
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str  # lowercased; "" when the mail names no sender
    from_name: str
    to: tuple[str, ...]  # lowercased addresses
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    date: datetime | None  # timezone-aware; None when absent or unreadable
    text: str  # text/plain when present, else text derived from the HTML
    html: str | None  # sanitised with nh3; None when the mail has no HTML part
    reply_text: str  # ``text`` without quoted history and signatures
    attachments: tuple[ParsedAttachment, ...]
    auto_reply_reason: str | None  # why this is an auto-reply or bounce; None for a person's mail
    content_hash: str  # sha256 hex of the raw bytes: the idempotency key when Message-ID is missing
    charset_notes: tuple[str, ...] = ()  # every charset fallback used, in order
    defects: tuple[str, ...] = ()  # structural problems survived (truncated MIME, bad base64, ...)

    @property
    def is_auto_reply(self) -> bool:
        return self.auto_reply_reason is not None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, most specific first (In-Reply-To, then References newest first)."""
        ids: list[str] = []
        if self.in_reply_to:
            ids.append(self.in_reply_to)
        ids.extend(ref for ref in reversed(self.references) if ref not in ids)
        return tuple(ids)


# --------------------------------------------------------------------------------------------
# Entry point


def parse_mail(raw: bytes | bytearray | memoryview) -> ParsedMail:
    """Parse ``raw`` RFC 5322 bytes. Raises only ``UnparseableMail``."""
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        raise UnparseableMail(f"expected bytes, got {type(raw).__name__}")
    if not raw.strip():
        raise UnparseableMail("empty input")
    content_hash = hashlib.sha256(raw).hexdigest()
    try:
        msg = message_from_bytes(raw)
    except RecursionError:
        raise UnparseableMail("MIME structure nested too deeply") from None
    except Exception as exc:  # the stdlib parser is lenient; this would be a CPython bug
        logger.exception("email parser failed")
        return _degraded(raw, content_hash, f"internal error in parser: {type(exc).__name__}")

    headers = _first_headers(msg)
    if not headers and not _has_body(msg):
        raise UnparseableMail("no headers and no body: not a mail")
    try:
        return _build(msg, headers, content_hash)
    except RecursionError:
        raise UnparseableMail("MIME structure nested too deeply") from None
    except Exception as exc:
        # A bug here must not lose a customer's mail: keep it readable and say what happened.
        logger.exception("parse_mail failed on a field; degrading")
        return _degraded(raw, content_hash, f"internal error: {type(exc).__name__}: {exc}"[:200])


# --------------------------------------------------------------------------------------------
# Headers


def _first_headers(msg: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.strip().lower()
        if key not in headers:
            headers[key] = value if isinstance(value, str) else str(value)
    return headers


def _raw_payload(message: Message) -> Any:
    """The payload as parsed. ``get_payload()`` would decode it with the declared charset, which
    raises on hostile charset names (an embedded NUL, say): we decode bodies ourselves."""
    return getattr(message, "_payload", None)


def _has_body(msg: Message) -> bool:
    payload = _raw_payload(msg)
    if isinstance(payload, list):
        return bool(payload)
    return bool(payload and str(payload).strip())


class _Notes:
    """Collects charset notes without duplicates, in order."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[str] = []

    def extend(self, notes: list[str] | tuple[str, ...]) -> None:
        for note in notes:
            self.add(note)

    def add(self, note: str | None) -> None:
        if note and note not in self.items:
            self.items.append(note)


def _header_text(headers: dict[str, str], name: str, hint: str | None, notes: _Notes) -> str:
    value = headers.get(name)
    if value is None:
        return ""
    text, header_notes = decode_header_value(value, hint=hint, where=name)
    notes.extend(header_notes)
    return text


def _plain(value: str) -> str:
    """Surrogate-free text of a raw header fragment (for ids and addresses: ASCII in practice)."""
    if value.isascii():
        return value
    return header_bytes(value).decode("utf-8", "replace")


_ANGLE_ID = re.compile(r"<([^<>\s]+)>")


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = _plain(value)
    match = _ANGLE_ID.search(value)
    if match:
        found = match.group(1)
    else:
        parts = value.split()
        if not parts:
            return None
        found = parts[0].strip("<>")
    return found[:_MAX_ID_LENGTH] or None


def _references(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    value = _plain(value)
    found = _ANGLE_ID.findall(value) or value.split()
    seen: dict[str, None] = {}
    for ref in found:
        ref = ref.strip("<>,")[:_MAX_ID_LENGTH]
        if ref:
            seen.setdefault(ref, None)
    refs = tuple(seen)
    if len(refs) > _MAX_REFERENCES:
        refs = refs[:1] + refs[-(_MAX_REFERENCES - 1) :]
    return refs


# The look-behind makes a match start only where a run starts, so the scan stays linear on
# long headers without "@".
_ADDR_SPEC = re.compile(r"(?<![^\s<>()\[\]:;,@\"])[^\s<>()\[\]:;,@\"]++@[^\s<>()\[\]:;,@\"]++")


_SIMPLE_ADDRESS = re.compile(
    r"""\s*(?:(?:"([^"\\]*)"|([^"<>,;:()\\@]*?))\s*<([^<>\s@",;:()]+@[^<>\s@",;:()]+)>"""
    r"""|([^<>\s@",;:()]+@[^<>\s@",;:()]+))\s*\Z"""
)


def _addresses(value: str | None, hint: str | None, notes: _Notes, where: str) -> list[tuple[str, str]]:
    if not value:
        return []
    if "\n" in value:
        value = value.replace("\r", "").replace("\n", "")
    pairs: list[tuple[str, str]] = []
    simple = _SIMPLE_ADDRESS.match(value)
    # One plain mailbox is what almost every header holds; the stdlib's full RFC 5322 address
    # parser costs ~30 µs a call, so it only sees the lists and the oddities.
    candidates = (
        [(simple.group(1) or simple.group(2) or "", simple.group(3) or simple.group(4))]
        if simple
        else getaddresses([value])
    )
    for name, addr in candidates:
        addr = _plain(addr).strip().lower()
        if "@" not in addr:
            continue
        if not _ADDR_SPEC.fullmatch(addr):
            found = _ADDR_SPEC.search(addr)
            if found is None:
                continue
            addr = found.group(0)
        display, header_notes = decode_header_value(name, hint=hint, where=where) if name else ("", [])
        notes.extend(header_notes)
        pairs.append((display, addr))
    if not pairs and "=?" in value:
        # Some apps encode the whole "Name <addr>" as one encoded word: decode, then parse.
        decoded, _notes = decode_header_value(value, hint=hint, where=where)
        pairs = [(n.strip(), a.strip().lower()) for n, a in getaddresses([decoded]) if "@" in a]
    if not pairs:
        # Broken syntax that getaddresses gives up on: still find the addresses in it.
        pairs = [("", match.lower()) for match in _ADDR_SPEC.findall(_plain(value))]
    return pairs


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(_plain(value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # "-0000" means "UTC, but the sender's zone is unknown" (RFC 5322 3.3).
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --------------------------------------------------------------------------------------------
# Body and attachments


@dataclass(slots=True)
class _Collected:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Part:
    """One MIME part with its headers read once (the stdlib re-scans them on every ``get``)."""

    message: Message
    headers: dict[str, str]  # lowercased name -> first raw value
    content_type: str
    depth: int

    def param(self, name: str, header: str = "content-type") -> tuple[str | None, str | None]:
        return _param(self, name, header)


_CONTENT_TYPE = re.compile(r"\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+)")


def _parts(msg: Message) -> list[_Part]:
    """Every part, depth first, without descending into attached messages or absurd nesting."""
    out: list[_Part] = []
    stack: list[tuple[Message, int, str]] = [(msg, 0, "text/plain")]
    while stack:
        message, depth, default_type = stack.pop()
        headers = _first_headers(message)
        content_type = default_type
        raw_type = headers.get("content-type")
        if raw_type is not None:
            match = _CONTENT_TYPE.match(raw_type)
            # RFC 2045: an unreadable Content-Type means the default, not an error.
            if match:
                content_type = match.group(1).lower()
        out.append(_Part(message, headers, content_type, depth))
        if depth >= _MAX_DEPTH or (depth > 0 and content_type.startswith("message/")):
            continue  # an attached message is kept whole as a .eml, not mixed into this one
        payload = _raw_payload(message)
        if isinstance(payload, list):
            child_default = "message/rfc822" if content_type == "multipart/digest" else "text/plain"
            for child in reversed(payload):
                if isinstance(child, Message):
                    stack.append((child, depth + 1, child_default))
    return out


_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*[\"']?\s*([^\"';\s]+)", re.IGNORECASE)


def _content_charset(part: _Part) -> str | None:
    raw = part.headers.get("content-type")
    if raw is None:
        return None
    if "charset*" not in raw.lower():
        match = _CHARSET_PARAM.search(raw)
        return _plain(match.group(1)) if match else None
    value, _charset = part.param("charset")  # RFC 2231 form, rare: let the stdlib do it
    return _plain(value).strip() if value else None


def _param(part: _Part, name: str, header: str) -> tuple[str | None, str | None]:
    """A MIME parameter's value and, for RFC 2231 values, the charset it declares."""
    raw = part.headers.get(header)
    if raw is None or name not in raw.lower():
        return None, None
    source = part.message
    if not raw.isascii():
        # Raw 8-bit bytes in a MIME header: the stdlib would turn them into U+FFFD. Decode the
        # header text first and let the stdlib parse parameters on real text.
        text, _note = decode_bytes(header_bytes(raw), None, where=header)
        source = Message()
        source[header] = text
    try:
        value: Any = source.get_param(name, header=header)
    except Exception:  # malformed parameters; the stdlib is inconsistent about what it raises
        return None, None
    if isinstance(value, tuple):
        charset, _language, text = value
        return text, (charset or None)
    return (value if isinstance(value, str) else None), None


def _filename(part: _Part, hint: str | None, notes: _Notes) -> str | None:
    for name, header in (("filename", "content-disposition"), ("name", "content-type")):
        value, rfc2231_charset = _param(part, name, header)
        if not value:
            continue
        if rfc2231_charset is not None:
            text, note = decode_bytes(header_bytes(value), rfc2231_charset, where="filename")
            notes.add(note)
            return text
        # Not RFC 2231: most clients (Outlook, QQ, Foxmail) put RFC 2047 words in quotes here.
        text, header_notes = decode_header_value(value, hint=hint, where="filename")
        notes.extend(header_notes)
        return text
    return None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode_text_part(part: _Part, notes: _Notes, collected: _Collected) -> str:
    content_type = part.content_type
    payload = _payload_bytes(part.message, collected)
    charset = _content_charset(part)
    if charset is None and content_type == "text/html":
        match = _META_CHARSET.search(payload[:2048])
        if match:
            charset = match.group(1).decode("ascii")
    text, note = decode_bytes(payload, charset, where=content_type)
    notes.add(note)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/plain":
        fmt = (part.param("format")[0] or "").lower()
        if fmt == "flowed":
            delsp = (part.param("delsp")[0] or "").lower() == "yes"
            text = _unflow(text, delsp)
    return text


def _payload_bytes(part: Message, collected: _Collected) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # bad uuencode and friends: keep the raw payload
        collected.defects.append(f"payload not decodable ({type(exc).__name__}); kept raw")
        raw = _raw_payload(part)
        return header_bytes(raw) if isinstance(raw, str) else b""
    return payload if isinstance(payload, bytes) else b""


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    out: list[str] = []
    buffer = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            buffer += line[:-1] if delsp else line
            continue
        out.append(buffer + line)
        buffer = ""
    if buffer:
        out.append(buffer)
    return "\n".join(out)


# Regenerating an attached message must reproduce it, not police it: a forwarded phish with a
# malformed header is exactly what the security desk needs to see.
_GENERATOR_POLICY = (
    compat32.clone(verify_generated_headers=False)
    if hasattr(compat32, "verify_generated_headers")
    else compat32
)


def _message_bytes(part: Message, collected: _Collected) -> bytes:
    payload = _raw_payload(part)
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        buffer = BytesIO()
        try:
            BytesGenerator(buffer, mangle_from_=False, policy=_GENERATOR_POLICY).flatten(inner)
        except Exception as exc:
            collected.defects.append(f"attached message not reproducible ({type(exc).__name__})")
            return b""
        return buffer.getvalue()
    if isinstance(payload, str):
        return header_bytes(payload)
    return b""


def _collect(parts: list[_Part], hint: str | None, notes: _Notes) -> _Collected:
    collected = _Collected()
    index = 0
    for part in parts:
        content_type = part.content_type
        collected.content_types.append(content_type)
        message = part.message
        if part.depth > 0 and content_type.startswith("message/"):
            _attach_message(part, hint, notes, collected, index)
            index += 1
            continue
        if isinstance(_raw_payload(message), list):
            continue
        if content_type.startswith("multipart/"):
            # Multipart without a usable boundary: the stdlib leaves the whole body as one
            # string. Show it as text rather than lose it.
            content_type = part.content_type = "text/plain"
        disposition = (part.headers.get("content-disposition") or "").split(";", 1)[0].strip().lower()
        filename = _filename(part, hint, notes)
        if content_type in ("text/plain", "text/html") and disposition != "attachment" and filename is None:
            text = _decode_text_part(part, notes, collected)
            (collected.plain if content_type == "text/plain" else collected.html).append(text)
            continue
        payload = _payload_bytes(message, collected)
        content_id = _message_id(part.headers.get("content-id"))
        collected.attachments.append(
            ParsedAttachment(
                filename=safe_filename(filename, content_type, index=index),
                content_type=content_type,
                payload=payload,
                size=len(payload),
                content_id=content_id,
                inline=disposition == "inline" or (not disposition and content_id is not None),
            )
        )
        index += 1
    # The stdlib records defects while parsing and (for base64) while decoding: gather them last.
    for part in parts:
        for defect in part.message.defects:
            collected.defects.append(type(defect).__name__)
    return collected


def _attach_message(part: _Part, hint: str | None, notes: _Notes, collected: _Collected, index: int) -> None:
    payload = _message_bytes(part.message, collected)
    filename = _filename(part, hint, notes)
    if filename is None and part.content_type == "message/rfc822":
        inner = _raw_payload(part.message)
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject = _first_headers(inner[0]).get("subject")
            if subject:
                filename = decode_header_value(subject, hint=hint, where="subject")[0]
        filename = f"{filename or 'forwarded message'}.eml"
    collected.attachments.append(
        ParsedAttachment(
            filename=safe_filename(filename, part.content_type, index=index),
            content_type=part.content_type,
            payload=payload,
            size=len(payload),
            content_id=_message_id(part.headers.get("content-id")),
            inline=False,
        )
    )


# --------------------------------------------------------------------------------------------
# HTML


_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS) | {"font"},
    attributes={**{k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}, "font": {"color", "size", "face"}},
    clean_content_tags={"script", "style", "title", "noscript", "template", "iframe", "object", "embed"},
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    url_relative="deny",  # a mail has no base URL; relative links only serve to mislead
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """Safe subset of ``html``: no scripts, styles, event handlers or javascript: URLs."""
    return _CLEANER.clean(html)


# Every pattern here stops at the next "<" so hostile HTML ("<a<a<a…", thousands of unclosed
# "<script>") costs linear time, not quadratic.
_HTML_HIDDEN_OPEN = re.compile(
    r"<!--|<!\[CDATA\[|<(script|style|head|title|noscript|template)\b[^<>]*>", re.IGNORECASE
)
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>|<![^<>]*>|<\?[^<>]*>")
# Gmail and Outlook wrap every line in a <div>: a div is a line break, a <p> is a paragraph.
_HTML_BLOCK = frozenset(
    [
        "div",
        "tr",
        "li",
        "dd",
        "dt",
        "section",
        "article",
        "header",
        "footer",
        "center",
        "address",
        "form",
        "fieldset",
    ]
)
_HTML_PARAGRAPH = frozenset(
    ["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr", "ul", "ol", "dl"]
)
_WS = re.compile(r"[ \t\r\n\f\u00a0]+")


def _drop_hidden(html: str) -> str:
    """Remove comments, CDATA and the content of script/style/head-like elements.

    An unclosed one hides everything after it, as in a browser."""
    out: list[str] = []
    lowered: str | None = None
    pos = 0
    while True:
        match = _HTML_HIDDEN_OPEN.search(html, pos)
        if match is None:
            out.append(html[pos:])
            break
        out.append(html[pos : match.start()])
        opener = match.group(0)
        if not opener.startswith("<!"):
            out.append(" ")  # an element separates words; a comment does not
        if opener == "<!--":
            end = html.find("-->", match.end())
            end = end + 3 if end != -1 else -1
        elif opener.startswith("<!["):
            end = html.find("]]>", match.end())
            end = end + 3 if end != -1 else -1
        else:
            if lowered is None:
                lowered = html.lower()
            close = lowered.find("</" + match.group(1).lower(), match.end())
            end = html.find(">", close) + 1 if close != -1 else -1
            end = end if end > 0 else -1
        if end == -1:
            break
        pos = end
    return "".join(out)


def html_to_text(html: str) -> str:
    """Readable text from mail HTML; ``<blockquote>`` content becomes "> " quoted lines."""
    html = _drop_hidden(html)
    lines: list[tuple[int, list[str]]] = [(0, [])]
    depth = 0
    pre = 0
    pos = 0

    def text_chunk(chunk: str) -> None:
        if not chunk:
            return
        chunk = html_lib.unescape(chunk)
        if pre:
            first, *rest = chunk.split("\n")
            lines[-1][1].append(first)
            for piece in rest:
                lines.append((depth, [piece]))
        else:
            lines[-1][1].append(_WS.sub(" ", chunk))

    for match in _HTML_TAG.finditer(html):
        text_chunk(html[pos : match.start()])
        pos = match.end()
        name = (match.group(2) or "").lower()
        if not name:
            continue
        closing = match.group(1) == "/"
        if name == "blockquote":
            depth = max(0, depth - 1) if closing else depth + 1
        elif name == "pre":
            pre = max(0, pre - 1) if closing else pre + 1
        if name in _HTML_PARAGRAPH:
            lines.append((depth, []))
            lines.append((depth, []))  # an empty line between paragraphs, collapsed below
        elif name == "br" or (name in _HTML_BLOCK and "".join(lines[-1][1]).strip()):
            lines.append((depth, []))
        elif name in _HTML_BLOCK:
            lines[-1] = (depth, lines[-1][1])  # "</div><div>": one line break, not two
    text_chunk(html[pos:])

    out: list[str] = []
    for level, parts in lines:
        line = "".join(parts).strip()
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        out.append("> " * level + line)
    return "\n".join(out).strip()


# --------------------------------------------------------------------------------------------
# Assembly


def _build(msg: Message, headers: dict[str, str], content_hash: str) -> ParsedMail:
    notes = _Notes()
    parts = _parts(msg)
    hint = next(
        (c for part in parts if part.content_type.startswith("text/") and (c := _content_charset(part))), None
    )

    subject = _header_text(headers, "subject", hint, notes)
    senders = _addresses(headers.get("from"), hint, notes, "from") or _addresses(
        headers.get("sender"), hint, notes, "sender"
    )
    from_name, from_address = senders[0] if senders else ("", "")
    to = tuple(addr for _n, addr in _addresses(headers.get("to"), hint, notes, "to"))
    cc = tuple(addr for _n, addr in _addresses(headers.get("cc"), hint, notes, "cc"))
    reply_to = tuple(addr for _n, addr in _addresses(headers.get("reply-to"), hint, notes, "reply-to"))

    collected = _collect(parts, hint, notes)
    html_source = "\n".join(collected.html) if collected.html else None
    text = "\n\n".join(t.strip("\n") for t in collected.plain if t.strip())
    if not text and html_source is not None:
        # No text/plain, or an empty one (bulk mailers send a blank alternative): use the HTML.
        text = html_to_text(html_source)
    html = sanitise_html(html_source) if html_source is not None else None

    def get(name: str) -> str | None:
        value = headers.get(name)
        return _plain(value) if value is not None else None

    reason = auto_reply_reason(get, from_address=from_address, content_types=tuple(collected.content_types))
    return ParsedMail(
        message_id=_message_id(headers.get("message-id")),
        in_reply_to=_message_id(headers.get("in-reply-to")),
        references=_references(headers.get("references")),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=to,
        cc=cc,
        reply_to=reply_to,
        date=_date(headers.get("date")),
        text=text,
        html=html,
        reply_text=strip_quoted(text),
        attachments=tuple(collected.attachments),
        auto_reply_reason=reason,
        content_hash=content_hash,
        charset_notes=tuple(notes.items),
        defects=tuple(dict.fromkeys(collected.defects)),
    )


def _degraded(raw: bytes, content_hash: str, reason: str) -> ParsedMail:
    text, note = decode_bytes(raw, None, where="raw mail")
    return ParsedMail(
        message_id=None,
        in_reply_to=None,
        references=(),
        subject="",
        from_address="",
        from_name="",
        to=(),
        cc=(),
        reply_to=(),
        date=None,
        text=text,
        html=None,
        reply_text=text,
        attachments=(),
        auto_reply_reason=None,
        content_hash=content_hash,
        charset_notes=(note,) if note else (),
        defects=(reason,),
    )
