"""Is an inbound mail really from the address in its From header?

Anyone can write any From. A mail is *authenticated* when either

- it carries a valid DKIM signature (checked here with dkimpy) whose signing domain `d=` is
  the From domain or a parent of it (DMARC's relaxed alignment), or
- the first `Authentication-Results` header written by a server the operator trusts
  (`EMAIL_TRUSTED_AUTHSERV_IDS`, matched on the header's authserv-id) says `dmarc=pass` for
  the From domain, or `dkim=pass` for an aligned domain. Any other such header is ignored:
  the sender can write one too. The operator's MTA must add its own header to every mail
  (and should remove incoming ones that claim its id, as RFC 8601 asks).

A DKIM signature proves only what it covers, and an authenticated mail is taken whole as the
sender's: its From (who), its Subject (the ticket's subject, and a reference that threads it)
and its body (the message). So a signature counts only when its `h=` covers From, To and Subject
(To: what the sender addressed; not routed on, but a mail re-addressed after signing is not the
one signed) as many times as the mail has them, so no copy was added after signing (DKIM signs
the last instance of a header; the parser reads the first), when the mail has exactly one From,
and when it has no `l=` (a body length: anything appended after it would be unsigned).

An unauthenticated mail is kept and answered like any guest's: its ticket lands on the
address's claim contact and never on the account that owns the address.

Pure apart from the DNS lookup of DKIM keys (`lookup_txt`, cached per process); no database.
Runs while a mail is prepared, before any transaction, in a helper process if there is one.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import dkim
from django.conf import settings
from dkim import dnsplug
from dkim.util import parse_tag_value

logger = logging.getLogger(__name__)

DnsFunc = Callable[..., bytes | None]

_CACHE_SECONDS = 300.0
_cache: dict[bytes, tuple[float, bytes | None]] = {}
_cache_lock = threading.Lock()


def _dns_txt(name: bytes, timeout: int = 5) -> bytes | None:
    return dnsplug.get_txt(name, timeout=timeout)


# The TXT lookup DKIM keys come from: dkimpy's own (dnspython) unless replaced. Tests serve
# their generated key through it, as there is no DNS here.
lookup_txt: DnsFunc = _dns_txt


def _cached_txt(name: bytes, timeout: int = 5) -> bytes | None:
    """Keys change rarely and a mailbox sees the same few senders: one lookup per 5 minutes."""
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(name)
        if hit is not None and hit[0] > now:
            return hit[1]
    try:
        value = lookup_txt(name, timeout=timeout)
    except Exception:
        logger.warning("DKIM key lookup failed for %r", name, exc_info=True)
        return None  # not cached: a DNS hiccup should not fail the next mail too
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[name] = (now + _CACHE_SECONDS, value)
    return value


def forget_keys() -> None:
    with _cache_lock:
        _cache.clear()


@dataclass(frozen=True)
class Verdict:
    authenticated: bool
    by: str = ""  # what proved it, for the desk: "DKIM example.com" or "mx.example.org: dmarc=pass"


NOT_AUTHENTICATED = Verdict(False)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(".").lower()


def aligned(signer: str, from_domain: str) -> bool:
    """Relaxed alignment: the signer is the From domain or a parent of it. A bare top-level
    domain never aligns (its key would be the registry's)."""
    signer = signer.strip().strip(".").lower()
    if not signer or "." not in signer or not from_domain:
        return False
    return from_domain == signer or from_domain.endswith("." + signer)


def check(raw: bytes, from_address: str, *, dnsfunc: DnsFunc | None = None) -> Verdict:
    """The verdict on one raw mail; never raises (a broken signature is not authentication)."""
    from_domain = domain_of(from_address)
    if not from_domain:
        return NOT_AUTHENTICATED
    headers = _headers(raw)
    trusted = _trusted_results(headers, from_domain)
    if trusted is not None:
        return trusted
    if not settings.EMAIL_DKIM_VERIFY:
        return NOT_AUTHENTICATED
    return _dkim(raw, headers, from_domain, dnsfunc)


def _headers(raw: bytes) -> list[tuple[str, str]]:
    """The header fields, unfolded, in order; only what this module reads needs to be right."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    block = (raw if end < 0 else raw[:end]).decode("latin-1")
    fields: list[tuple[str, str]] = []
    for line in re.split(r"\r?\n", block):
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip().lower(), value.strip()))
    return fields


_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"\b(header\.from|header\.d|header\.i)\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


def _trusted_results(headers: list[tuple[str, str]], from_domain: str) -> Verdict | None:
    trusted = {i.strip().lower() for i in settings.EMAIL_TRUSTED_AUTHSERV_IDS if i.strip()}
    if not trusted:
        return None
    for name, value in headers:
        if name != "authentication-results":
            continue
        text = value
        for _ in range(3):  # comments may nest a little
            text = _COMMENT.sub(" ", text)
        parts = text.split(";")
        authserv = parts[0].split()[0].lower() if parts[0].split() else ""
        if authserv not in trusted:
            continue
        # The first header our own server wrote decides; later ones may be the sender's.
        for part in parts[1:]:
            match = _RESULT.match(part)
            if match is None:
                continue
            method, result, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
            if result != "pass":
                continue
            props = {k.lower(): v for k, v in _PROPERTY.findall(rest)}
            if method == "dmarc" and domain_of("@" + props.get("header.from", "")) == from_domain:
                return Verdict(True, f"{authserv}: dmarc=pass")
            if method == "dkim":
                signer = props.get("header.d") or domain_of(props.get("header.i", ""))
                if aligned(signer, from_domain):
                    return Verdict(True, f"{authserv}: dkim=pass ({signer.lower()})")
        return NOT_AUTHENTICATED
    return None


# The headers an authenticated mail is trusted for, each of which the signature must cover.
COVERED = (b"from", b"to", b"subject")


def _covers(tags: dict[bytes, bytes], headers: list[tuple[str, str]]) -> str:
    """Why this signature does not cover what the desk trusts, or "" when it does."""
    if b"l" in tags:
        return "l= leaves the rest of the body unsigned"
    signed = [h.strip().lower() for h in tags.get(b"h", b"").split(b":")]
    present = {name: sum(1 for n, _v in headers if n.encode() == name) for name in COVERED}
    if present[b"from"] != 1:
        return f"{present[b'from']} From headers"
    for name in COVERED:
        if signed.count(name) < max(present[name], 1):
            return f"{name.decode()} is not signed (or was added after signing)"
    return ""


def _dkim(raw: bytes, headers: list[tuple[str, str]], from_domain: str, dnsfunc: DnsFunc | None) -> Verdict:
    signatures = [value for name, value in headers if name == "dkim-signature"]
    if not signatures:
        return NOT_AUTHENTICATED
    lookup = dnsfunc or _cached_txt
    timeout = settings.EMAIL_DKIM_DNS_TIMEOUT
    for idx, value in enumerate(signatures):
        try:
            tags = parse_tag_value(value.encode("latin-1"))
            signer = tags.get(b"d", b"").decode("ascii", "replace")
        except Exception:
            logger.info("an unreadable DKIM-Signature header (%d)", idx)
            continue
        if not aligned(signer, from_domain):
            continue  # a valid signature by another domain says nothing about From
        if why := _covers(tags, headers):
            logger.info("DKIM signature %d does not cover the mail: %s", idx, why)
            continue
        try:
            verifier = dkim.DKIM(raw, timeout=timeout)
            if verifier.verify(idx=idx, dnsfunc=lookup):
                return Verdict(True, f"DKIM {signer.lower()}")
        except Exception:
            logger.info("DKIM signature %d did not verify", idx, exc_info=True)
    return NOT_AUTHENTICATED
