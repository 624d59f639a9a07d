"""Private keys: raw hex, WIF, BIP32 extended private keys and Ethereum keystore JSON.

A raw key and a transaction hash are both 64 random hex digits, so only the words around
one tell them apart. The nearest cue wins ("private key" vs "tx/hash/交易哈希", or the hash
sitting inside an explorer URL); with no cue at all the string is treated as a key, because
losing a hash costs the agent one question while keeping a key can cost the user everything.
"""

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .checksums import base58check_decode
from .cues import SPLIT_PIECE_SEED
from .findings import Finding, SecretKind

if TYPE_CHECKING:
    from .textview import TextView

# Every key format here is one unbroken ASCII alphanumeric run of 51+ characters, so a single
# cheap pass finds all candidates and each is classified by its exact shape. The pass works on
# a one-byte-per-character class map of the text (alphanumeric -> "a", anything else -> " "),
# where ``bytes.find`` of 51 "a"s skips ordinary text far faster than a regex can step
# through it (a regex tries every letter of every English word as a possible start).
_MIN_KEY_RUN = 51
_ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALNUM_CLASSES = bytes(ord("a") if byte in _ALNUM else ord(" ") for byte in range(256))
_HEX_KEY = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")
_BASE58_ONLY = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
# Matched against lower-cased context; one pattern so the nearest cue of either kind wins.
_KEY_CUES = r"private|priv\b|privkey|\bkeys?\b|\bpk\b|secret|私钥|私鑰|密钥|密鑰|秘钥|秘鑰|导出|導出|export"
_HASH_CUES = (
    r"tx|hash|sha-?256|sha3|keccak|checksum|digest|transaction|transfer|deposit|withdraw|block|explorer|scan\b|"
    r"receipt|order|交易|哈希|转账|轉賬|转帐|區塊|区块|记录|記錄|订单|訂單|提币|提幣|充值|到账|到賬|浏览器|瀏覽器"
)
_CUE_FIRST_CHARS = "".join(
    sorted({cue.removeprefix("\\b")[0] for cue in f"{_KEY_CUES}|{_HASH_CUES}".split("|")})
)
# The lookahead on the first character lets most positions fail on one set test before the
# 40-way alternation is tried.
_CUE = rf"(?=[{_CUE_FIRST_CHARS}])(?:(?P<key>{_KEY_CUES})|(?P<hash>{_HASH_CUES}))"
_CONTEXT_CUE = re.compile(_CUE)
# "…/tx/<hash>": is the text before the candidate the tail of a URL? Matched backwards on the
# reversed text, from its end, so only the last whitespace-free stretch is ever read; the same
# as searching ``(?:https?://|www\.|\.[a-z]{2,10}/)\S*$`` forwards, including ``$`` matching
# before one final new line.
_URL_BEFORE_REVERSED = re.compile(r"\n?\S*?(?://:s?ptth|\.www|/[a-z]{2,10}\.)", re.IGNORECASE)
_CONTEXT_BEFORE = 80
_CONTEXT_AFTER = 40
_MIN_DISTINCT_HEX_DIGITS = 10  # random keys use ~16; "000…001" test values are not secrets

_WIF_VERSIONS = frozenset({0x80, 0xEF})  # mainnet, testnet
_EXTENDED_PRIVATE_PREFIXES = ("xprv", "yprv", "zprv", "tprv", "uprv", "vprv", "Yprv", "Zprv", "Uprv", "Vprv")
_EXTENDED_KEY_LENGTH = 78

_CIPHERTEXT_KEY = re.compile(r"[\"']ciphertext[\"']", re.IGNORECASE)
_KEYSTORE_MARKERS = re.compile(r"[\"'](?:kdf|cipher|cipherparams|mac|kdfparams)[\"']", re.IGNORECASE)
_KEYSTORE_LOOKBEHIND = 1024  # "ciphertext" sits a few hundred characters into a keystore


def find_keys(
    text: str, view: "TextView | None" = None, not_context: Sequence[tuple[int, int]] = ()
) -> Iterator[Finding]:
    """``not_context``: (start, end) of the secrets another detector found (recovery phrases).

    A 64-hex string is told from a hash by the words around it, and the characters of another
    secret are not such words: a random WIF holds "tx" about once in 25 ("L3nEyZTxkt…"), and
    "deposit", "order", "scan", "transfer", "block" and "key" are BIP39 words. So the WIF and
    extended keys are found first, and they and ``not_context`` are blanked out of the context.
    """
    # Every run of 16+ letters and digits: the 51+ ones are whole keys, the shorter ones may be
    # a piece of a split one.
    # "replace" turns each non-ASCII character (even a lone surrogate) into one "?", so byte
    # offsets are character offsets.
    ascii_text = text.encode("ascii", "replace")
    if view is None:
        runs = list(_alnum_runs_of(ascii_text.translate(_ALNUM_CLASSES), SPLIT_PIECE_SEED))
        long_runs = [(start, end) for start, end in runs if end - start >= _MIN_KEY_RUN]
    else:
        runs, long_runs = view.alnum_runs(SPLIT_PIECE_SEED), view.alnum_runs(_MIN_KEY_RUN)
    base58 = list(_find_split_base58(text, runs))
    hex_runs = []
    for start, end in long_runs:
        candidate = text[start:end]
        if len(candidate) in (64, 66) and _HEX_KEY.fullmatch(candidate):
            hex_runs.append((start, end, candidate))
        elif _BASE58_ONLY.fullmatch(candidate):
            base58 += _judge_base58_key(candidate, start, end)
    secrets = [*not_context, *((finding.start, finding.end) for finding in base58)]
    # What the cues are read in: the text with those secrets turned into spaces.
    context = _blank(text, secrets) if secrets else text
    yield from _find_split_hex(text, ascii_text.translate(_HEX_OR_SPACE_CLASSES), context)
    yield from base58
    for start, end, candidate in hex_runs:
        yield from _judge_hex_key(text, start, end, candidate, context)
    if "iphertext" in text or "IPHERTEXT" in text:
        yield from _find_keystores(text)


def _long_alnum_runs(text: str, min_run: int = _MIN_KEY_RUN) -> Iterator[tuple[int, int]]:
    """(start, end) of every maximal run of ``min_run``+ ASCII letters and digits."""
    return _alnum_runs_of(text.encode("ascii", "replace").translate(_ALNUM_CLASSES), min_run)


def _alnum_runs_of(classes: bytes, min_run: int) -> Iterator[tuple[int, int]]:
    """``_long_alnum_runs`` from the text's class map (alphanumeric -> "a", else " ")."""
    seed = b"a" * min_run
    position = 0
    while (start := classes.find(seed, position)) != -1:
        # ``position`` is 0 or just past a run, so the first ``min_run`` "a"s found open a run.
        end = classes.find(b" ", start + min_run)
        if end == -1:
            end = len(classes)
        yield start, end
        position = end


# --- keys split by whitespace ----------------------------------------------------------------
#
# People break keys up: a raw hex key written in blocks ("3970c457 a899f68d …") or wrapped over
# two lines, a WIF or extended key split by a chat app's line wrap or a copy from a PDF. The
# pieces are whole words (nothing alphanumeric glued to either end) joined by a short gap of
# spaces with at most one new line. Both searches below run the same on every text (long or
# short), so the numpy view has nothing to agree with.
_GAP = re.compile(r"[ \t]{0,2}(?:\r?\n)?[ \t]{0,2}")
_GAP_CHARS = frozenset(" \t\r\n")
_PIECE = re.compile(r"[0-9A-Za-z]+")
_HEX_PIECE = re.compile(r"[0-9a-fA-F]+")
_HEX_OR_SPACE = b"0123456789ABCDEFabcdef \t\r\n"
_HEX_OR_SPACE_CLASSES = bytes(ord("h") if byte in _HEX_OR_SPACE else ord(" ") for byte in range(256))
_HEX_STRETCH_SEED = b"h" * 65  # 64 digits and at least one gap
_HEX_BLOCK_SIZES = frozenset({4, 8, 16, 32})
_BASE58_LENGTHS = frozenset({51, 52, 111, 112})
_WIF_FIRST_CHARS = frozenset("5KL9c")


def _is_gap(text: str, end: int, start: int) -> bool:
    return start > end and _GAP.fullmatch(text, end, start) is not None


def _is_alnum_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()


def _whole_word(text: str, start: int, end: int) -> bool:
    """Nothing alphanumeric glued on: the pieces are not the ends of longer words."""
    return not _is_alnum_at(text, start - 1) and not _is_alnum_at(text, end)


def _find_split_hex(text: str, classes: bytes, context: str | None = None) -> Iterator[Finding]:
    position = 0
    while (start := classes.find(_HEX_STRETCH_SEED, position)) != -1:
        end = classes.find(b" ", start)
        if end == -1:
            end = len(classes)
        position = end
        # Most stretches are one unbroken hash or key with a space or new line around it.
        if len(text[start:end].split(None, 1)) < 2:
            continue
        pieces = [match.span() for match in _HEX_PIECE.finditer(text, start, end)]
        for first in range(len(pieces)):
            total = 0
            for last in range(first, len(pieces)):
                if last > first and not _is_gap(text, pieces[last - 1][1], pieces[last][0]):
                    break
                total += pieces[last][1] - pieces[last][0]
                if total >= 64:
                    if total == 64 and last > first:
                        yield from _judge_split_hex(text, pieces[first : last + 1], context)
                    break


def _judge_split_hex(
    text: str, pieces: list[tuple[int, int]], context: str | None = None
) -> Iterator[Finding]:
    start, end = pieces[0][0], pieces[-1][1]
    # A "0x" before the first block belongs to the key (the "x" ended the stretch).
    if start >= 2 and text.startswith(("0x", "0X"), start - 2):
        start -= 2
    if not _whole_word(text, start, end):
        return
    lengths = {piece_end - piece_start for piece_start, piece_end in pieces}
    wrapped = len(pieces) == 2 and "\n" in text[pieces[0][1] : pieces[1][0]]
    if not wrapped and not (len(lengths) == 1 and lengths <= _HEX_BLOCK_SIZES):
        return  # neither even blocks nor one line break: hex that merely sits in a list
    digits = "".join(text[piece_start:piece_end] for piece_start, piece_end in pieces).lower()
    # A random key has letters and digits (all 64 of one kind: 1 in 10**13); a table of
    # numbers or hex words ("dead beef cafe …") does not.
    if len(set(digits)) < _MIN_DISTINCT_HEX_DIGITS or digits.isdigit() or not any(map(str.isdigit, digits)):
        return
    verdict = _judge_hex_context(text, start, end, context)
    if verdict is not None:
        how = "in blocks" if not wrapped else "over two lines"
        yield Finding(SecretKind.PRIVATE_KEY, start, end, f"{verdict} (written {how})")


def _find_split_base58(text: str, runs: list[tuple[int, int]]) -> Iterator[Finding]:
    """WIF and extended keys split into pieces, one of which is among ``runs`` (the maximal
    runs of ``SPLIT_PIECE_SEED``+ letters and digits)."""
    covered = 0
    for seed, seed_end in runs:
        # Most long runs are hashes, addresses and URLs: not base58 (a "0"), too long to be a
        # piece, or with no gap on either side. Only a piece of a split key goes further.
        if (
            seed < covered
            or seed_end - seed >= 111
            or not (text[seed - 1 : seed] in _GAP_CHARS or text[seed_end : seed_end + 1] in _GAP_CHARS)
            or text.find("0", seed, seed_end) != -1  # a hex hash, nearly always
        ):
            continue
        if _BASE58_ONLY.fullmatch(text, seed, seed_end) is None:
            continue
        before = _base58_pieces_before(text, seed)
        pieces = [*before, (seed, seed_end), *_base58_pieces_after(text, seed_end)]
        if len(pieces) == 1:
            continue
        finding = _split_base58_at(text, pieces, len(before))
        if finding is not None:
            covered = finding.end
            yield finding


_MAX_PIECES_AROUND = 7


def _base58_pieces_after(text: str, position: int) -> list[tuple[int, int]]:
    """The whole base58 words that follow ``position`` across gaps, nearest first."""
    pieces: list[tuple[int, int]] = []
    while len(pieces) < _MAX_PIECES_AROUND:
        gap = _GAP.match(text, position)
        piece = _PIECE.match(text, gap.end()) if gap is not None and gap.end() > position else None
        if piece is None or _BASE58_ONLY.fullmatch(piece.group()) is None:
            break
        pieces.append(piece.span())
        position = piece.end()
    return pieces


def _base58_pieces_before(text: str, position: int) -> list[tuple[int, int]]:
    """The whole base58 words that precede ``position`` across gaps, in text order."""
    pieces: list[tuple[int, int]] = []
    while len(pieces) < _MAX_PIECES_AROUND:
        end = position
        while end > 0 and position - end < 6 and text[end - 1] in _GAP_CHARS:
            end -= 1
        if end == position or not _is_gap(text, end, position):
            break
        start = end
        while start > 0 and _is_alnum_at(text, start - 1):
            start -= 1
        if start == end or _BASE58_ONLY.fullmatch(text, start, end) is None:
            break
        pieces.append((start, end))
        position = start
    return pieces[::-1]


def _split_base58_at(text: str, pieces: list[tuple[int, int]], middle: int) -> Finding | None:
    """A WIF or extended key made of two or more of ``pieces`` (base58 words joined by gaps)
    including ``pieces[middle]``: the first opening like a key, the whole of a key's length."""
    for begin in range(middle + 1):
        opening = text[pieces[begin][0] : pieces[begin][0] + 4]
        if opening[:1] not in _WIF_FIRST_CHARS and not opening.startswith(_EXTENDED_PRIVATE_PREFIXES):
            continue
        total = 0
        for last in range(begin, len(pieces)):
            total += pieces[last][1] - pieces[last][0]
            if total > 112:
                break
            if last > begin and last >= middle and total in _BASE58_LENGTHS:
                joined = "".join(text[a:b] for a, b in pieces[begin : last + 1])
                start, end = pieces[begin][0], pieces[last][1]
                for finding in _judge_base58_key(joined, start, end):
                    return Finding(finding.kind, start, end, f"{finding.detail}, split by whitespace")
    return None


def _judge_hex_key(
    text: str, start: int, end: int, candidate: str, context: str | None = None
) -> Iterator[Finding]:
    if len(set(candidate[-64:].lower())) < _MIN_DISTINCT_HEX_DIGITS:
        return
    verdict = _judge_hex_context(text, start, end, context)
    if verdict is not None:
        yield Finding(SecretKind.PRIVATE_KEY, start, end, verdict)


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with every (start, end) of ``spans`` turned into spaces: same length, same offsets."""
    pieces = []
    position = 0
    for start, end in sorted(spans):
        start = max(start, position)
        if end <= start:
            continue
        pieces += [text[position:start], " " * (end - start)]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _judge_hex_context(text: str, start: int, end: int, context: str | None = None) -> str | None:
    """A detail string when the 64-hex string reads as a key, None when it reads as a hash.

    ``context`` is ``text`` with the other secrets found blanked out (see ``find_keys``): the
    cues are read in it. The URL test reads ``text`` itself."""
    if context is None:
        context = text
    raw_before = text[max(0, start - _CONTEXT_BEFORE) : start]
    before = context[max(0, start - _CONTEXT_BEFORE) : start]
    cues: list[tuple[str, str]] = []
    # findall gives (key, hash) pairs; the last pair is the nearest cue. (Searching backwards
    # would differ: "export" + "x" reads "tx" from the right.) No cue holds whitespace, so the
    # left-to-right search starts afresh after each space: the last cue of the whole context
    # is the last one of its last whitespace-free piece that has any, and the pieces nearest
    # the key (usually "TxID:", "hash") are searched first and mostly alone.
    # (Lower-casing piece by piece is lower-casing the whole: whitespace ends the context that
    # a final sigma looks at.)
    for piece in reversed(before.split()):
        cues = _CONTEXT_CUE.findall(piece.lower())
        if cues:
            if not cues[-1][0]:
                return None  # a hash cue: a hash, in a URL or not
            break
    # The hex string inside a URL ("…/tx/<hash>") is a hash whatever the cue before it.
    if _URL_BEFORE_REVERSED.match(raw_before[::-1]):
        return None
    if cues:
        return "64 hex digits after a private-key cue"
    first_after = _CONTEXT_CUE.search(context[end : end + _CONTEXT_AFTER].lower())
    if first_after is not None:
        return "64 hex digits before a private-key cue" if first_after.lastgroup == "key" else None
    return "64 hex digits with no context; treated as a private key to be safe"


def _judge_base58_key(candidate: str, start: int, end: int) -> Iterator[Finding]:
    if candidate.startswith(_EXTENDED_PRIVATE_PREFIXES) and len(candidate) in (111, 112):
        payload = base58check_decode(candidate)
        if payload is not None and len(payload) == _EXTENDED_KEY_LENGTH:
            detail = f"BIP32 extended private key ({candidate[:4]}), valid base58check"
            yield Finding(SecretKind.EXTENDED_PRIVATE_KEY, start, end, detail)
    elif len(candidate) in (51, 52) and candidate[0] in "5KL9c":
        payload = base58check_decode(candidate)
        if payload is None or payload[0] not in _WIF_VERSIONS:
            return
        if len(payload) == 33:
            yield Finding(SecretKind.WIF_KEY, start, end, "WIF private key (uncompressed), valid checksum")
        elif len(payload) == 34 and payload[-1] == 1:
            yield Finding(SecretKind.WIF_KEY, start, end, "WIF private key (compressed), valid checksum")


def _find_keystores(text: str) -> Iterator[Finding]:
    covered_until = -1
    for match in _CIPHERTEXT_KEY.finditer(text):
        if match.start() < covered_until:
            continue
        span = _enclosing_json_object(text, match.start())
        if span is None:
            continue
        start, end = span
        if len(_KEYSTORE_MARKERS.findall(text, start, end)) < 1:
            continue
        covered_until = end
        yield Finding(SecretKind.KEYSTORE, start, end, "Ethereum keystore JSON (encrypted private key)")


def _enclosing_json_object(text: str, position: int) -> tuple[int, int] | None:
    """The outermost balanced {...} around ``position``; a truncated paste runs to the end."""
    opens: list[int] = []
    depth = 0
    for index in range(position - 1, max(-1, position - _KEYSTORE_LOOKBEHIND), -1):
        char = text[index]
        if char == "}":
            depth += 1
        elif char == "{":
            if depth == 0:
                opens.append(index)
            else:
                depth -= 1
    if not opens:
        return None
    innermost_end = len(text)
    for start in reversed(opens):  # outermost last: try it first
        end = _matching_brace(text, start)
        if end is not None:
            return start, end
    return opens[0], innermost_end


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None
