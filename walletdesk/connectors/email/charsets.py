"""Turn bytes from a mailbox into text, whatever charset they claim to be in.

Pure module (no Django). Real mailboxes carry labels that lie: "utf-8" bodies written in GBK,
"gb2312" bodies with GBK-only characters, "x-unknown", "gb_2312-80", or no label at all on
8-bit bytes. The strategy, cheapest first:

1. pure ASCII under an ASCII-compatible label decodes as ASCII (the overwhelmingly common case);
2. the declared charset, through an alias table that widens subsets to their supersets
   (GB2312/GBK -> GB18030, Big5 -> Big5-HKSCS, EUC-KR -> CP949, Shift_JIS -> CP932,
   Latin-1 -> CP1252), strict;
3. if the bytes are valid UTF-8 with enough non-ASCII bytes, UTF-8 wins over a legacy label
   (valid multi-byte UTF-8 by accident is vanishingly rare, mislabelled UTF-8 is common);
4. a fallback chain: UTF-8, then the East Asian multi-byte codecs scored by how many decoded
   characters are *common* characters (garbage decodings produce rare ideographs), then CP1252;
5. last resort: the best candidate with replacement characters, or Latin-1 (never fails).

Every step past the declared label is reported as a note so nothing is silently guessed.
"""

from __future__ import annotations

import binascii
import codecs
import re
from functools import cache

__all__ = ["decode_bytes", "decode_header_value", "header_bytes", "normalise_charset"]

# Labels seen in the wild mapped to the Python codec that decodes a superset of them.
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb2312-80": "gb18030",
    "gb-2312": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "x-euc-cn": "gb18030",
    "chinese": "gb18030",
    "iso-ir-58": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "gb18030": "gb18030",
    "gb-18030": "gb18030",
    "x-mac-chinesesimp": "gb18030",
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-mac-chinesetrad": "big5hkscs",
    "cp950": "cp950",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "ks_c_5601-1989": "cp949",
    "korean": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_2",
    "csiso2022jp": "iso2022_jp_2",
    "iso-2022-jp-2": "iso2022_jp_2",
    "unicode-1-1-utf-7": "utf-7",
    "utf7": "utf-7",
    "x-unicode20utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    # US-ASCII labels on 8-bit bytes are almost always UTF-8 (or worse); treating ASCII as UTF-8
    # is identical for honest ASCII and sends the dishonest case down the normal path.
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    # What every browser does: ISO-8859-1 labels mean Windows-1252.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso8859_8",
    "x-mac-roman": "mac_roman",
}

# Labels that carry no information at all.
_NO_LABEL = frozenset(
    {"", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "none", "8bit"}
)

# Text codecs that must never be applied to mail bodies even if a sender names them.
_FORBIDDEN = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)

# Codecs tried, in order, when the label is missing or wrong. Big5 before GB18030 would misread
# GBK too, so these are *scored* rather than taken first-come.
_CJK_CANDIDATES = ("gb18030", "big5hkscs", "cp932", "cp949")

_UTF8_OVERRIDE_MIN_HIGH_BYTES = 4
_SCORE_SAMPLE = 2000
_SINGLE_BYTE_LATIN = frozenset({"cp1252", "iso8859-15", "iso8859-1", "latin-1"})
_ESC_2022 = re.compile(rb"\x1b[$(][@ABDJ]")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def normalise_charset(label: str | None) -> str | None:
    """Return the Python codec name to use for ``label``, or None when it is unusable/unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if name in _NO_LABEL:
        return None
    name = _ALIASES.get(name, name)
    return _lookup(name)


@cache
def _lookup(name: str) -> str | None:
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    # bytes.decode refuses non-text codecs anyway (base64, zlib, rot13 ...); check to note it.
    if not getattr(info, "_is_text_encoding", True) or info.name in _FORBIDDEN:
        return None
    canonical = _ALIASES.get(info.name, info.name)
    return canonical


@cache
def _ascii_transparent(codec: str) -> bool:
    """True when ASCII bytes decode to themselves (false for UTF-7, ISO-2022, UTF-16, EBCDIC)."""
    probe = bytes(range(32, 127)) + b"\r\n\t\x1b"
    try:
        return probe.decode(codec) == probe.decode("ascii")
    except (UnicodeError, LookupError):
        return False


def decode_bytes(data: bytes, declared: str | None, *, where: str = "body") -> tuple[str, str | None]:
    """Decode ``data`` that claims to be in ``declared``. Never raises.

    Returns ``(text, note)``; ``note`` is None when the declared label (or plain ASCII) was
    right, otherwise a short human-readable description of the fallback used.
    """
    codec = normalise_charset(declared)
    if (codec is None or _ascii_transparent(codec)) and data.isascii():
        if codec is None and _ESC_2022.search(data):
            try:
                return data.decode("iso2022_jp_2"), f"{where}: unlabelled ISO-2022-JP"
            except UnicodeError:
                pass
        return data.decode("ascii"), None
    if codec is not None:
        try:
            text = data.decode(codec)
        except UnicodeError:
            pass
        else:
            if codec == "utf-8" or not _ascii_transparent(codec):
                return text, None
            if _looks_like_mislabelled_utf8(data):
                return data.decode("utf-8"), f"{where}: declared {declared!r} but is UTF-8"
            if codec in _SINGLE_BYTE_LATIN:
                cjk = _looks_like_mislabelled_cjk(data)
                if cjk is not None:
                    return cjk[1], f"{where}: declared {declared!r} but is {cjk[0]}"
            return text, None
    return _guess(data, declared, codec, where)


def _looks_like_mislabelled_utf8(data: bytes) -> bool:
    # Cheap pre-check: a handful of 8-bit bytes in a text too short to tell is left alone.
    if len(_HIGH_BYTE.findall(data[:4096])) < _UTF8_OVERRIDE_MIN_HIGH_BYTES:
        return False
    try:
        data.decode("utf-8")
    except UnicodeError:
        return False
    return True


def _looks_like_mislabelled_cjk(data: bytes) -> tuple[str, str] | None:
    """GBK/Big5 text sent as "iso-8859-1" (old webmail forms do this): decodes, reads as common CJK."""
    if len(_HIGH_BYTE.findall(data[:4096])) < 2 * _UTF8_OVERRIDE_MIN_HIGH_BYTES:
        return None
    for name in ("gb18030", "big5hkscs"):
        try:
            text = data.decode(name)
        except UnicodeError:
            continue
        if _commonness(text) >= 0.9:
            return name, text
    return None


def _guess(data: bytes, declared: str | None, codec: str | None, where: str) -> tuple[str, str | None]:
    if declared and codec is None:
        what = f"unknown charset {declared.strip()[:40]!r}"
    elif declared:
        what = f"declared {declared.strip()[:40]!r} did not decode"
    else:
        what = "no charset"
    try:
        return data.decode("utf-8"), f"{where}: {what}, decoded as utf-8"
    except UnicodeError:
        pass
    if _ESC_2022.search(data):
        try:
            return data.decode("iso2022_jp_2"), f"{where}: {what}, decoded as iso-2022-jp"
        except UnicodeError:
            pass

    best: tuple[float, str, str] | None = None
    for name in _CJK_CANDIDATES:
        if name == codec:
            continue
        try:
            text = data.decode(name)
        except UnicodeError:
            continue
        score = _commonness(text)
        if best is None or score > best[0]:
            best = (score, name, text)
    # Below half common characters it's a Latin text that happened to pair up as GBK bytes.
    if best is not None and best[0] >= 0.5:
        return best[2], f"{where}: {what}, guessed {best[1]}"

    # A few damaged bytes (a truncated word, a stray byte) in an otherwise East Asian text: keep
    # the reading that loses least, with replacement characters, rather than mojibake it all.
    # The declared codec goes first so it wins ties.
    damaged: tuple[float, str, str] | None = None
    for name in dict.fromkeys((codec or "utf-8", "utf-8", *_CJK_CANDIDATES)):
        text = data.decode(name, errors="replace")
        non_ascii = _non_ascii_count(text)
        score = _commonness(text) - 1.0 * text.count("\ufffd") / max(1, non_ascii)
        if name == codec:
            score += 0.2  # the sender's label is evidence too
        if damaged is None or score > damaged[0]:
            damaged = (score, name, text)
    if damaged is not None and damaged[0] >= 0.5:
        return damaged[2], f"{where}: {what}, decoded as {damaged[1]} with replacement characters"

    try:
        return data.decode("cp1252"), f"{where}: {what}, decoded as cp1252"
    except UnicodeError:
        pass
    if best is not None:
        return best[2], f"{where}: {what}, guessed {best[1]} (low confidence)"
    return data.decode("latin-1"), f"{where}: {what}, decoded as latin-1 (lossy guess)"


def _non_ascii_count(text: str) -> int:
    return sum(1 for ch in text if ord(ch) > 127)


def _commonness(text: str) -> float:
    """Fraction of non-ASCII characters that are common CJK/Latin characters or punctuation."""
    common = _common_chars()
    total = hits = 0
    for ch in text[:_SCORE_SAMPLE]:  # a sample decides as well as the whole, in bounded time
        if ord(ch) < 128:
            continue
        total += 1
        if ch in common or "\uac00" <= ch <= "\ud7a3":
            hits += 1
    return hits / total if total else 1.0


@cache
def _common_chars() -> frozenset[str]:
    """The characters a real East Asian text is mostly made of; built once from the codecs."""
    chars: set[str] = set()

    def rows(codec: str, leads: range, trails: list[int]) -> None:
        raw = bytearray()
        for lead in leads:
            for trail in trails:
                raw += bytes((lead, trail))
        chars.update(raw.decode(codec, errors="ignore"))

    double_byte_trails = list(range(0xA1, 0xFF))
    rows("gb2312", range(0xB0, 0xD8), double_byte_trails)  # GB2312 level 1: 3755 common hanzi
    rows("big5", range(0xA4, 0xC7), list(range(0x40, 0x7F)) + double_byte_trails)  # Big5 frequent
    rows("euc_jp", range(0xB0, 0xD0), double_byte_trails)  # JIS X 0208 level 1 kanji
    rows("gb2312", range(0xA1, 0xA2), double_byte_trails)  # CJK punctuation
    chars.update(chr(c) for c in range(0x3000, 0x3100))  # CJK symbols, kana
    chars.update(chr(c) for c in range(0xFF01, 0xFF5F))  # full-width forms
    chars.update(chr(c) for c in range(0x00C0, 0x0100))  # Latin-1 letters
    chars.update("\u2018\u2019\u201c\u201d\u2026\u2014\u2013\u00b7\u00a0\u20ac")
    return frozenset(chars)


# ---------------------------------------------------------------------------------------------
# Headers: RFC 2047 encoded words plus whatever raw 8-bit bytes senders put there.

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_SURROGATE = re.compile("[\udc80-\udcff]")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def header_bytes(value: str) -> bytes:
    """The original bytes of a header value as the stdlib parser stored it (surrogate-escaped)."""
    try:
        return value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        # Already-decoded text (e.g. RFC 2231 values unquoted as latin-1): keep what we can.
        return (
            value.encode("latin-1", "surrogateescape")
            if _is_latin1(value)
            else value.encode("utf-8", "replace")
        )


def _is_latin1(value: str) -> bool:
    return all(ord(ch) < 256 or 0xDC80 <= ord(ch) <= 0xDCFF for ch in value)


def _decode_word_payload(encoding: str, text: str) -> bytes | None:
    if encoding in "Bb":
        compact = "".join(text.split())
        compact += "=" * (-len(compact) % 4)
        try:
            return binascii.a2b_base64(compact.encode("ascii", "surrogateescape"))
        except (binascii.Error, ValueError):
            return None
    raw = text.replace("_", " ").encode("ascii", "surrogateescape")
    return _Q_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), raw)


def decode_header_value(
    value: str | None, *, hint: str | None = None, where: str = "header"
) -> tuple[str, list[str]]:
    """Decode a raw header value (RFC 2047 words and/or raw 8-bit). Returns ``(text, notes)``.

    Adjacent encoded words in the same charset are joined *as bytes* before decoding because
    several Chinese clients split a multi-byte character across two words.
    """
    if not value:
        return "", []
    if "\n" in value:
        value = _FOLD.sub("", value).replace("\r", "").replace("\n", "")
    if "=?" not in value and value.isascii():
        return _CONTROL.sub(" ", value).strip(), []

    notes: list[str] = []
    out: list[str] = []
    pending_charset: str | None = None
    pending: bytearray = bytearray()

    def flush() -> None:
        nonlocal pending_charset
        if pending_charset is not None:
            text, note = decode_bytes(bytes(pending), pending_charset, where=where)
            out.append(text)
            if note:
                notes.append(note)
            pending.clear()
            pending_charset = None

    def plain(segment: str) -> None:
        if segment.isascii() or not _SURROGATE.search(segment):  # ASCII, or already real text
            out.append(segment)
            return
        raw = header_bytes(segment)
        try:
            # RFC 6532 allows raw UTF-8 in headers: not a fallback, no note.
            out.append(raw.decode("utf-8"))
            return
        except UnicodeError:
            pass
        text, note = decode_bytes(raw, hint, where=where)
        out.append(text)
        notes.append(note or f"{where}: raw 8-bit bytes decoded as {hint}")

    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        pos = match.end()
        # RFC 2047 6.2: whitespace between two encoded words is not displayed.
        if between and not (between.isspace() and (pending_charset is not None)):
            flush()
            plain(between)
        charset = match.group(1).split("*", 1)[0]
        payload = _decode_word_payload(match.group(2), match.group(3))
        if payload is None:
            flush()
            notes.append(f"{where}: broken encoded word kept as is")
            plain(match.group(0))
            continue
        if pending_charset is not None and pending_charset.lower() != charset.lower():
            flush()
        pending_charset = charset
        pending += payload
    flush()
    tail = value[pos:]
    if tail:
        plain(tail)
    return _CONTROL.sub(" ", "".join(out)).strip(), notes
