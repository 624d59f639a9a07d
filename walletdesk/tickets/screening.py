"""What every inbound text passes through before it is stored: the shield, then triage.

One hook point for every channel (web, in-app, email, chat, social): `screen()` returns the
text with secrets replaced by placeholders, the tags to put on the ticket and the scam flags
agents see in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from walletdesk import shield
from walletdesk.core.cache import ProcessCache
from walletdesk.tickets import triage as triage_rules

SECRET_TAG = "secret-removed"  # noqa: S105 - a tag name, not a password
SCAM_TAG = "scam-signal"


@dataclass(frozen=True)
class Screened:
    text: str
    secret_kinds: list[str] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        tags = []
        if self.secret_kinds:
            tags.append(SECRET_TAG)
        if self.flags:
            tags.append(SCAM_TAG)
        return tags


def official_domains() -> list[str]:
    from walletdesk.registry.lookups import official_domains as domains

    return domains()


def phishing_lists() -> shield.PhishingLists | None:
    from walletdesk.registry.lookups import phishing_lists as lists

    return lists()


def signal_record(signal: shield.Signal) -> dict[str, Any]:
    """A signal as a ticket stores it (a flag) or the outbound guard reports it (a risk): its code,
    its English reason (what the API and webhooks show) and the reason as codes with parameters,
    so a page words it in the reader's language (`tickets.wording.flag_text`)."""
    return {
        "code": signal.code,
        "reason": signal.reason,
        "reasons": [{"key": r.key, "params": dict(r.params)} for r in signal.reasons],
    }


def merge_flags(*groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flag per code, the first reason kept. A text that asks for a fee twice, a subject
    and a body that both do, or a follow-up that repeats it, is one scam signal for the agent,
    not a chip per match."""
    merged: dict[str, dict[str, Any]] = {}
    for group in groups:
        for flag in group or []:
            if isinstance(flag, dict):
                merged.setdefault(str(flag.get("code", "")), flag)
    return list(merged.values())


def screen(text: str) -> Screened:
    result = shield.scan(text)
    kinds = sorted({str(f.kind) for f in result.findings})
    signals = shield.scam_signals(result.redacted, official_domains(), phishing_lists())
    flags = merge_flags([signal_record(s) for s in signals])
    return Screened(text=result.redacted, secret_kinds=kinds, flags=flags)


# --- secrets in short values (names, facts, file names, ids) -----------------------------------
#
# Every inbound value passes the shield, not only subjects and bodies. Most values are a few
# characters long and could not hold a secret, so they skip the scan: the shortest secret the
# shield finds is twelve one-character Chinese words; in plain ASCII it is twelve words of three
# letters or more with their separators (47 characters), and every key format is longer (a WIF
# has 51 or 52 characters and no space). Anything non-ASCII (full-width letters, zero-width
# characters, look-alike letters) only needs the twelve.
MIN_SECRET_CHARS = 12
MIN_ASCII_SECRET_CHARS = 47


@dataclass(frozen=True)
class ScreenedValue:
    text: str
    secret_kinds: tuple[str, ...] = ()


def could_hold_secret(value: str) -> bool:
    length = len(value)
    if length < MIN_SECRET_CHARS:
        return False
    return length >= MIN_ASCII_SECRET_CHARS or not value.isascii()


def screen_value(value: str) -> ScreenedValue:
    """A short inbound value (a name, a fact, a file name, an id) with any secret replaced by
    its placeholder, and the kinds found. No scam or triage work: these are not messages."""
    if not value or not could_hold_secret(value):
        return ScreenedValue(value)
    result = shield.scan(value)
    if not result.findings:
        return ScreenedValue(value)
    return ScreenedValue(result.redacted, tuple(sorted({str(f.kind) for f in result.findings})))


def outbound_risks(text: str) -> list[dict[str, Any]]:
    risks = shield.outbound_reply_risks(text, official_domains(), phishing_lists())
    return [signal_record(r) for r in risks]


def _load_rules() -> triage_rules.CompiledRules:
    from walletdesk.tickets.models import TriageRuleRecord

    rules = [
        triage_rules.TriageRule(
            category=r.category_id,
            keywords=tuple(k.strip() for k in r.keywords.splitlines() if k.strip()),
            weight=r.weight,
            language=r.language,
            priority=r.priority or None,
            negatable=r.negatable,
        )
        for r in TriageRuleRecord.objects.filter(active=True)
    ]
    # With every rule switched off, triage still works on the shipped defaults.
    return triage_rules.compile_rules(rules or triage_rules.load_default_rules())


# Admin edits reach every process within the TTL without a query per ticket.
_rules_cache = ProcessCache(_load_rules)
_rules = _rules_cache.get
forget_rules = _rules_cache.forget


def triage(text: str) -> Any:
    return triage_rules.classify(text, _rules())


# Triage may overrule the customer only towards the Security desk: a stolen account or money
# leaving without consent filed under "Something else" must not wait in the general queue, but
# for every other category the customer knows better than keyword rules.
SECURITY_CATEGORIES = frozenset({"account_stolen", "unauthorised_tx"})


@dataclass(frozen=True)
class TriageDecision:
    category: str  # the category the ticket gets
    priority: str | None  # triage's priority for it (None: keep the customer's)
    overrode: bool  # True when triage replaced the customer's choice
    record: dict[str, Any]  # what the ticket stores as its triage result, with the reason


def triage_ticket(text: str, chosen: str | None, min_score: float) -> TriageDecision:
    """Triage every ticket's text, whether or not the customer chose a category.

    - No category chosen: triage's category and priority.
    - A non-security category chosen, and the text matches a security category with a score of
      at least `min_score` (one strong rule): triage wins, and the record says why.
    - Otherwise the customer's category stands and triage's suggestion is recorded.
    """
    verdict = triage(text)
    record: dict[str, Any] = {
        "category": verdict.category,
        "priority": verdict.priority,
        "matched": list(verdict.matched),
        "score": verdict.score,
    }
    if chosen is None:
        return TriageDecision(verdict.category, verdict.priority, False, record)
    record["customer_category"] = chosen
    confident = verdict.score >= min_score and verdict.category in SECURITY_CATEGORIES
    if confident and chosen not in SECURITY_CATEGORIES and chosen != verdict.category:
        rules = ", ".join(repr(m) for m in verdict.matched[:3])
        record["overrode"] = True
        record["reason"] = f"text matched {verdict.category} rule {rules}; customer chose {chosen!r}"
        return TriageDecision(verdict.category, verdict.priority, True, record)
    record["overrode"] = False
    record["reason"] = f"customer chose {chosen!r}; triage suggested {verdict.category!r}"
    return TriageDecision(chosen, None, False, record)
