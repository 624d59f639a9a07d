"""Rule-based triage: guess a ticket's category and priority from its text.

Pure: plain functions on plain data, no Django, no database. The rules are data that an
admin edits (the lead stores them in a model and passes them in); the defaults ship in
``data/triage_rules.json``.

How a text is scored:
- The text (subject + body) is normalised once: NFKC (full-width letters and digits become
  ASCII), curly apostrophes become straight, case-folded, and Traditional Chinese becomes
  Simplified, so one rule set serves mainland, Hong Kong and Taiwan users alike. Keywords
  go through the same normalisation, so an admin may write them in either script.
- A rule *matches* when any of its keywords occurs (plain substring, or a regex when the
  keyword starts with ``re:``; regexes see the normalised text). A matching rule adds its
  weight once to its category: keywords inside a rule are synonyms, not extra evidence, so
  "gas fee" does not count twice for containing both "gas" and "fee".
- The category with the highest score wins; ties go to the more severe category (by its
  default priority), then to the category whose rules come first. No match: the default
  category.
- Priority: the highest ``priority`` among the winning category's matched rules that set
  one, else `DEFAULT_PRIORITY` for the category.
- ``negatable`` rules ignore an occurrence right after a negation ("没有被盗", "wasn't
  hacked"). Cheap and local on purpose: "I don't think it's hacked" still counts.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from walletdesk.shield.literals import (
    IGNORECASE_SPECIALS,
    LiteralIndex,
    find_all,
    finditer,
    literal_starts,
    may_match,
    present_among,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_PRIORITY",
    "PRIORITIES",
    "CompiledRules",
    "TriageResult",
    "TriageRule",
    "classify",
    "compile_rules",
    "load_default_rules",
    "normalise_text",
    "rules_from_dicts",
]

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
_PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}

CATEGORIES: tuple[str, ...] = (
    "login_locked",
    "forgot_password",
    "unauthorised_tx",
    "account_stolen",
    "fees",
    "scam_report",
    "other",
)

# A stolen account or money leaving without consent cannot wait for business hours; a scam
# report may still save the next victim; fee questions are answered by the help centre.
DEFAULT_PRIORITY: Mapping[str, str] = {
    "login_locked": "normal",
    "forgot_password": "normal",
    "unauthorised_tx": "urgent",
    "account_stolen": "urgent",
    "fees": "low",
    "scam_report": "high",
    "other": "normal",
}
_FALLBACK_PRIORITY = "normal"  # for categories an admin adds that have no default

_LANGUAGES = ("", "zh", "en")
_REGEX_PREFIX = "re:"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z]")
# Negation right before a keyword. Chinese: 没(有)/不是/并未/未曾/并非/从未, but not the
# questions 有没有 / 是不是 ("was it stolen?"). English: a negator and at most one word.
_NEGATION_ZH = re.compile(r"(?:(?<!有)没有?|(?<!是)不是|并未|未曾|并非|从未|从没)\s*$")
_NEGATION_EN = re.compile(
    r"\b(?:not|no|never|isn't|wasn't|hasn't|haven't|hadn't|didn't|don't|doesn't|aren't|weren't)"
    r"(?:\s+\w+)?\s*$"
)
_NEGATION_WINDOW = 24  # characters looked at before a keyword


@dataclass(frozen=True)
class TriageRule:
    """One admin-editable rule: any of `keywords` found → `weight` towards `category`.

    `language` "" applies to every text, "zh" only to texts with Chinese characters, "en"
    only to texts with Latin letters. `priority`, when set, is what a ticket in this
    category gets when this rule matched.
    """

    category: str
    keywords: tuple[str, ...]
    weight: float = 1.0
    language: str = ""
    priority: str | None = None
    negatable: bool = False

    def __post_init__(self) -> None:
        # Rules come from an admin form or JSON: coerce lists, and fail with a message that
        # names the bad value rather than misclassifying later.
        if isinstance(self.keywords, str):
            raise ValueError(f"keywords must be a list of strings, not one string: {self.keywords!r}")
        object.__setattr__(self, "keywords", tuple(self.keywords))
        if not self.category:
            raise ValueError("rule category must not be empty")
        if not self.keywords or not all(isinstance(k, str) and k.strip() for k in self.keywords):
            raise ValueError(f"rule for {self.category!r} needs non-empty keywords, got {self.keywords!r}")
        if self.language not in _LANGUAGES:
            raise ValueError(f"rule language must be one of {_LANGUAGES}, got {self.language!r}")
        if self.priority is not None and self.priority not in _PRIORITY_RANK:
            raise ValueError(f"rule priority must be one of {PRIORITIES} or None, got {self.priority!r}")
        if not self.weight > 0:
            raise ValueError(f"rule weight must be positive, got {self.weight!r}")
        for keyword in self.keywords:
            if keyword.startswith(_REGEX_PREFIX):
                try:
                    re.compile(keyword[len(_REGEX_PREFIX) :])
                except re.error as exc:
                    raise ValueError(f"bad regex in rule for {self.category!r}: {keyword!r}: {exc}") from exc


@dataclass(frozen=True)
class TriageResult:
    category: str
    priority: str
    score: float
    matched: tuple[str, ...]  # the winning category's keywords found, as the rules spell them


@dataclass(frozen=True)
class _CompiledRule:
    rule: TriageRule
    # (keyword as written, compiled pattern or None, normalised plain text or "", and for a
    # pattern the literals one of which every match starts with, or None when unknown)
    matchers: tuple[tuple[str, re.Pattern[str] | None, str, tuple[str, ...] | None], ...]
    # All keywords of the rule in one alternation, for rules with a pattern whose literals are
    # unknown; most rules match nothing, and one regex pass beats a test per keyword.
    any_keyword: re.Pattern[str]
    # Otherwise every substring one of which must occur for the rule to match: a few hundred
    # `in` tests (C, memchr) cost a tenth of the \b-anchored alternations they stand in for.
    needles: tuple[str, ...] | None
    needle_set: frozenset[str] | None = None


@dataclass(frozen=True)
class CompiledRules:
    """Rules ready to run: keywords normalised and regexes compiled once."""

    rules: tuple[_CompiledRule, ...]
    order: Mapping[str, int] = field(default_factory=dict)  # category -> first position
    # Every rule's needles in one automaton: one scan of a text says which occur, and a rule
    # none of whose needles did is skipped by a set test.
    index: LiteralIndex | None = None


# --- normalisation --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s() -> Any:
    # Imported lazily: converter construction loads dictionaries (~tens of ms).
    import opencc  # opencc-python-reimplemented

    return opencc.OpenCC("t2s")


def normalise_text(text: str) -> str:
    """The form both texts and keywords are matched in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").casefold()
    return _to_simplified(text)


@lru_cache(maxsize=1)
def _traditional_starts() -> frozenset[str] | None:
    """Every character a t2s dictionary entry starts with, or None if we cannot tell.

    OpenCC only ever replaces dictionary entries, so a text sharing no character with this set
    converts to itself; checking that in C skips the pure-Python converter (a third of triage's
    time) for the many Chinese texts written in Simplified already.
    """
    converter = _t2s()
    converter.convert("")  # loads the dictionaries
    chain: Any = getattr(converter, "_dict_chain_data", None)  # opencc-python-reimplemented's layout
    try:
        return frozenset(key[0] for group in chain for *_, entries in group for key in entries if key)
    except (TypeError, ValueError):
        return None


def _to_simplified(text: str) -> str:
    if not _CJK.search(text):
        return text
    starts = _traditional_starts()
    if starts is not None and starts.isdisjoint(text):
        return text
    return str(_t2s().convert(text))


# --- rules as data --------------------------------------------------------------------


def rules_from_dicts(items: Iterable[Mapping[str, Any]]) -> list[TriageRule]:
    """Rules from plain dicts (JSON, a model's ``values()``); unknown keys are an error."""
    known = {"category", "keywords", "weight", "language", "priority", "negatable"}
    rules = []
    for item in items:
        unknown = set(item) - known
        if unknown:
            raise ValueError(f"unknown triage rule field(s) {sorted(unknown)} in {dict(item)!r}")
        rules.append(TriageRule(**item))
    return rules


def load_default_rules() -> list[TriageRule]:
    """The rules shipped in ``walletdesk/tickets/data/triage_rules.json``."""
    source = resources.files("walletdesk.tickets").joinpath("data", "triage_rules.json")
    return rules_from_dicts(json.loads(source.read_text(encoding="utf-8")))


_HAS_UPPER = re.compile(r"(?<!\\)[A-Z]")


def compile_rules(rules: Sequence[TriageRule]) -> CompiledRules:
    compiled = []
    order: dict[str, int] = {}
    for rule in rules:
        order.setdefault(rule.category, len(order))
        matchers: list[tuple[str, re.Pattern[str] | None, str, tuple[str, ...] | None]] = []
        for keyword in rule.keywords:
            if keyword.startswith(_REGEX_PREFIX):
                # Not normalise_text: case-folding a pattern would turn \S into \s. The
                # pattern runs with IGNORECASE instead; only its Chinese is simplified.
                pattern = _to_simplified(keyword[len(_REGEX_PREFIX) :])
                matchers.append((keyword, re.compile(pattern, re.IGNORECASE), "", literal_starts(pattern)))
            else:
                matchers.append((keyword, None, normalise_text(keyword), None))
        alternatives = [
            re.escape(plain) if pattern is None else f"(?:{pattern.pattern})"
            for _, pattern, plain, _ in matchers
        ]
        needles: tuple[str, ...] | None = None
        if all(pattern is None or lits for _, pattern, _, lits in matchers):
            needles = tuple(dict.fromkeys(n for _, _, plain, lits in matchers for n in lits or (plain,)))
        # Texts are case-folded before matching, so the prefilter needs IGNORECASE (slow for
        # alternations) only when a regex keyword itself has capitals.
        flags = (
            re.IGNORECASE
            if any(p is not None and _HAS_UPPER.search(p.pattern) for _, p, _, _ in matchers)
            else 0
        )
        compiled.append(
            _CompiledRule(
                rule,
                tuple(matchers),
                re.compile("|".join(alternatives), flags),
                needles,
                frozenset(needles) if needles is not None else None,
            )
        )
    index = LiteralIndex(dict.fromkeys(n for c in compiled for n in c.needles or ()))
    return CompiledRules(tuple(compiled), order, index)


@lru_cache(maxsize=16)
def _compile_cached(rules: tuple[TriageRule, ...]) -> CompiledRules:
    return compile_rules(rules)


# --- classification -------------------------------------------------------------------


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - _NEGATION_WINDOW) : start]
    return bool(_NEGATION_ZH.search(before[-6:]) or _NEGATION_EN.search(before))


def _occurs(
    text: str,
    pattern: re.Pattern[str] | None,
    plain: str,
    lits: tuple[str, ...] | None,
    negatable: bool,
    present: frozenset[str] | None = None,
) -> bool:
    """Whether the keyword occurs (and, if negatable, not only negated). `present`, when
    given, holds which of the rule's needles occur in `text` (its plain keywords and its
    patterns' literal starts among them)."""
    if pattern is None:
        if plain not in (text if present is None else present):
            return False  # the common, cheap case
    elif present is not None and lits is not None:
        # Every match starts with one of `lits`; only those that occur can start one.
        lits = present_among(present, lits)
        if not lits:
            return False
    elif not may_match(text, lits):
        return False
    # `text` is case-folded already, so it is its own lowered form; without `lits` (none
    # known, or the text holds a dotless i) the pattern scans the whole text.
    if not negatable:
        return pattern is None or next(finditer(pattern, text, text, lits), None) is not None
    starts = (
        find_all(text, plain) if pattern is None else (m.start() for m in finditer(pattern, text, text, lits))
    )
    return any(not _negated(text, s) for s in starts)


def classify(
    text: str,
    rules: Sequence[TriageRule] | CompiledRules,
    default_category: str = "other",
) -> TriageResult:
    """Category and priority for a ticket's text (subject + body, any mix of zh and en).

    Pass `CompiledRules` (from `compile_rules`) when classifying many texts; a plain rule
    sequence is compiled once and cached.
    """
    compiled = rules if isinstance(rules, CompiledRules) else _compile_cached(tuple(rules))
    norm = normalise_text(text or "")
    has_zh, has_en = bool(_CJK.search(norm)), bool(_LATIN.search(norm))
    # The text is case-folded already; literal skips are exact unless it holds a dotless i.
    literals_exact = IGNORECASE_SPECIALS.isdisjoint(norm)

    present = compiled.index.present(norm) if literals_exact and compiled.index is not None else None

    scores: dict[str, float] = {}
    matched: dict[str, list[str]] = {}
    top_priority: dict[str, str] = {}
    for c in compiled.rules:
        rule = c.rule
        if (rule.language == "zh" and not has_zh) or (rule.language == "en" and not has_en):
            continue
        known = None
        if literals_exact and c.needles is not None:
            if present is not None and c.needle_set is not None:
                if present.isdisjoint(c.needle_set):
                    continue
                known = present
            elif not may_match(norm, c.needles):
                continue
        elif c.any_keyword.search(norm) is None:
            continue
        if known is not None:
            # Only keywords one of whose literals occurs can match.
            found = [
                kw
                for kw, pattern, plain, lits in c.matchers
                if (plain in known if pattern is None else lits is None or not known.isdisjoint(lits))
                and _occurs(norm, pattern, plain, lits, rule.negatable, known)
            ]
        else:
            found = [
                kw
                for kw, pattern, plain, lits in c.matchers
                if _occurs(norm, pattern, plain, lits if literals_exact else None, rule.negatable)
            ]
        if not found:
            continue
        scores[rule.category] = scores.get(rule.category, 0.0) + rule.weight
        seen = matched.setdefault(rule.category, [])
        seen.extend(k for k in found if k not in seen)
        if rule.priority is not None:
            current = top_priority.get(rule.category)
            if current is None or _PRIORITY_RANK[rule.priority] > _PRIORITY_RANK[current]:
                top_priority[rule.category] = rule.priority

    if not scores:
        return TriageResult(default_category, _default_priority(default_category), 0.0, ())

    def rank(category: str) -> tuple[float, int, int]:
        severity = _PRIORITY_RANK[_default_priority(category)]
        return (scores[category], severity, -compiled.order.get(category, 0))

    winner = max(scores, key=rank)
    priority = top_priority.get(winner) or _default_priority(winner)
    return TriageResult(winner, priority, scores[winner], tuple(matched[winner]))


def _default_priority(category: str) -> str:
    return DEFAULT_PRIORITY.get(category, _FALLBACK_PRIORITY)
