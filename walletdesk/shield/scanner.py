"""``scan``: find every secret in a text and return it redacted."""

from .findings import Finding, ScanResult, placeholder_for, placeholder_language
from .folding import folded_findings
from .keys import find_keys
from .phrases import find_phrases
from .textview import FAST_PATH_MIN_CHARS, TextView


def scan(text: str, *, language: str | None = None) -> ScanResult:
    """Find recovery phrases, SLIP-39 shares and private keys in ``text`` and redact them.

    Each secret, and nothing around it, is replaced by a visible placeholder in the language of
    the message ("[recovery phrase removed]", "[已删除助记词]"; see ``findings.placeholder_language``),
    or in ``language`` ("en"/"zh") when given. Finding offsets refer to ``text``, not to the
    redacted text.
    """
    if not text:
        return ScanResult(redacted=text, findings=[])
    # A long text is classified once, character by character, so that each detector can skip
    # what cannot hold a secret (same findings; see textview.py).
    view = _view_of(text)
    found = _detect(text, view)
    # Secrets disguised with full-width, look-alike or invisible characters: the detectors run
    # again on folded copies of the few stretches that hold such characters (folding.py).
    found.extend(folded_findings(text, lambda window: _detect(window, _view_of(window)), view))
    findings = _without_overlaps(found)
    if not findings:
        return ScanResult(redacted=text, findings=[])
    if language is None:
        language = placeholder_language(text, [(finding.start, finding.end) for finding in findings])
    pieces: list[str] = []
    position = 0
    for finding in findings:
        pieces.append(text[position : finding.start])
        pieces.append(placeholder_for(finding.kind, language))
        position = finding.end
    pieces.append(text[position:])
    return ScanResult(redacted="".join(pieces), findings=findings, language=language)


def _view_of(text: str) -> TextView | None:
    return TextView(text) if len(text) >= FAST_PATH_MIN_CHARS else None


def _detect(text: str, view: TextView | None = None) -> list[Finding]:
    """Every detector's findings; ``view`` is ``_view_of(text)``."""
    phrases = list(find_phrases(text, view))
    # A phrase's words are never a key's context ("deposit", "order", "scan" are BIP39 words).
    return [*phrases, *find_keys(text, view, [(finding.start, finding.end) for finding in phrases])]


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings (a keystore's hex ciphertext, a phrase seen by two detectors)
    become one finding over their union, named after the longest of them."""
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and finding.start < merged[-1].end:
            previous = merged[-1]
            longest = max(previous, finding, key=lambda f: f.end - f.start)
            merged[-1] = Finding(longest.kind, previous.start, max(previous.end, finding.end), longest.detail)
        else:
            merged.append(finding)
    return merged
