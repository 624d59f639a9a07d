"""Literals a regex match must start with, so a text without any of them skips the regex.

Pure Python, no Django. Python's `re` tries a `\\b(?:a|b|…)`-style alternation at every
position of the text; a handful of `in` tests (C, memchr) answer "can this match at all?"
for a fraction of that. Used by triage and the scam patterns, where most patterns match
nothing in most texts.

Where one of the literals does occur, `finditer` tries the pattern only at the places they
occur, not at every position. Measured on the benchmark's 280-character ticket ("I sent 0.25
ETH … exchange deposit address …"): the scam patterns went from 179 µs to 65 µs, triage from
222 µs to 155 µs. A pattern whose matches
start with no known literal may still contain one in every match (`(?:\\d+|两)小时内` always
holds "小时内"): `literal_needles` finds those, for the may-it-match test alone (`may_contain`).
Triage, with several hundred literals, finds the ones that occur in one scan (`LiteralIndex`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from re import _parser as _sre_parser  # type: ignore[attr-defined,unused-ignore]
from typing import Any

# The characters outside ASCII that IGNORECASE matches with an ASCII letter (found by running
# every code point against a-z; a test repeats that). Where one occurs, `lower()` does not
# show what the pattern sees, so callers fall back to running the regex.
IGNORECASE_SPECIALS = frozenset("\u0130\u0131\u017f\u212a")  # İ ı ſ K (Kelvin)

_MAX_LITERALS = 64


def literal_starts(pattern: str) -> tuple[str, ...] | None:
    """Literals one of which every match of `pattern` starts with; None when the pattern
    does not begin with literals.

    `\\b(drained|emptied)\\b` gives ("drained", "emptied"); `\\block(ed)?` gives ("lock",)
    ("locked" begins with it); `(请)?转账` gives ("请转账", "转账"); `[ab]c` gives ("ac", "bc");
    `.{0,5}x` gives None. Only ASCII and caseless
    characters (Chinese) are taken, so lower-casing them matches what IGNORECASE does, on a
    lower-cased text free of `IGNORECASE_SPECIALS`. Skipping a regex none of whose starts
    occurs cannot change a result.
    """
    try:
        parsed = _sre_parser.parse(pattern, re.IGNORECASE)
        growing, done = _walk(list(parsed), {""})
    except Exception:  # _Unknown, or parser internals we do not know: just run the regex
        return None
    starts = growing | done
    if not starts or "" in starts:
        return None
    return tuple(sorted(_prune(starts)))


Needles = tuple[tuple[tuple[str, ...], ...], ...]


def literal_needles(pattern: str) -> Needles | None:
    """What every match of `pattern` contains, as alternatives of groups: a text can match
    only if, for one alternative, it holds a literal of each of its groups (`may_contain`).
    None when nothing is known. Unlike `literal_starts`, this does not say where a match
    begins; it only says when none can.

    `(?:\\d+|两)\\s*小时内` gives ((("小时内",),),); `限时|\\bfunds?\\s+will\\s+be\\s+(?:lost|frozen)`
    gives ((("限时",),), (("fund",), ("will",), ("be",), ("frozen", "lost"))) — "wallet" alone
    in a text does not make the second alternative worth trying.
    """
    try:
        items = list(_sre_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # parser internals we do not know: just run the regex
        return None
    alternatives = (
        [list(b) for b in items[0][1][1]] if len(items) == 1 and str(items[0][0]) == "BRANCH" else [items]
    )
    singles: set[str] = set()
    clauses: list[tuple[tuple[str, ...], ...]] = []
    for alternative in alternatives:
        groups = _groups(alternative)
        if not groups:
            return None
        if len(groups) == 1:
            singles |= groups[0]  # one group: merged with the others like it, one test for all
        else:
            clauses.append(tuple(tuple(sorted(g)) for g in groups))
    if singles:
        clauses.insert(0, (tuple(sorted(_prune_contained(singles))),))
    return tuple(clauses)


def may_contain(lowered: str | None, needles: Needles | None) -> bool:
    """False only when no match is possible: for every alternative of `needles`, some group
    has none of its literals in `lowered`."""
    if lowered is None or needles is None:
        return True
    has = lowered.__contains__
    return any(all(any(map(has, group)) for group in clause) for clause in needles)


def may_contain_present(present: frozenset[str], needles: Needles | None) -> bool:
    """`may_contain`, given which literals occur (`LiteralIndex.present`, whose index holds
    every literal of `needles`)."""
    if needles is None:
        return True
    disjoint = present.isdisjoint
    # A clause holds when none of its groups is disjoint from what is present.
    return any(not any(map(disjoint, clause)) for clause in needles)


def present_among(present: frozenset[str], starts: tuple[str, ...]) -> tuple[str, ...]:
    """The `starts` that occur: a match can begin only at one of them (`finditer`)."""
    return tuple(present.intersection(starts))


def needle_literals(needles: Needles | None) -> list[str]:
    return [literal for clause in needles or () for group in clause for literal in group]


def _groups(items: list[Any]) -> list[set[str]]:
    """Sets of literals this sequence's every match contains one of, each: the starts of each
    of its tails (a match of the whole holds a match of every tail), then those of each
    mandatory part (`_contained`)."""
    groups: list[set[str]] = []
    for i in range(len(items)):
        if str(items[i][0]) == "AT":
            continue
        try:
            growing, done = _walk(items[i:], {""})
        except _Unknown:
            continue
        starts = _prune_contained(growing | done)
        if starts and "" not in starts and starts not in groups:
            groups.append(starts)
    for op, av in items:
        name = str(op)
        part: set[str] | None = None
        if name == "SUBPATTERN" and av[1] == 0 and av[2] == 0:
            part = _contained(list(av[3]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and av[0] >= 1:
            part = _contained(list(av[2]))
        elif name == "BRANCH":
            branches = [_contained(list(b)) for b in av[1]]
            if all(branches):
                part = _prune_contained(set().union(*branches))  # type: ignore[arg-type]
        if part and len(part) <= _MAX_LITERALS and part not in groups:
            groups.append(part)
    # A group implied by another adds no test ("in" is in "within"): keep the others, and the
    # first of two that imply each other.
    return [
        g
        for i, g in enumerate(groups)
        if not any(j != i and _implies(h, g) and not (j > i and _implies(g, h)) for j, h in enumerate(groups))
    ]


def _implies(h: set[str], g: set[str]) -> bool:
    """A text holding a literal of `h` holds one of `g`: each of h's contains one of g's."""
    return all(any(x in y for x in g) for y in h)


def _contained(items: list[Any]) -> set[str] | None:
    """One set of literals every match of this sequence contains one of: of its `_groups`,
    the one whose shortest literal is longest (so the test is rare to pass)."""
    groups = _groups(items)
    if not groups:
        return None
    return max(groups, key=lambda g: (min(map(len, g)), -len(g)))


def _in_literals(av: Any) -> set[str] | None:
    """The characters of a class made of literals only (`[ab]`, or `(要|让|叫)` which the parser
    turns into one), lower-cased; None for ranges, categories or a negated class."""
    chars = set()
    for op, value in av:
        if str(op) != "LITERAL":
            return None
        char = chr(value)
        if not (char.isascii() or char.lower() == char.upper()):
            return None
        chars.add(char.lower())
    return chars if len(chars) <= _MAX_LITERALS else None


def finditer(
    pattern: re.Pattern[str], text: str, lowered: str | None, starts: tuple[str, ...] | None
) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`: the same matches, tried only where one of `starts` (from
    `literal_starts`) occurs in `lowered` (from `lowered_for_literals(text)`).

    The same because every match begins at such a place, `lower()` keeps every position of a
    text free of `IGNORECASE_SPECIALS` (only U+0130 lengthens; a test checks every code point),
    and `match(text, pos)` sees the text before `pos` for `\\b` and look-behinds as `search`
    does. Matches are never empty (they start with a literal), so resuming at a match's end is
    what `finditer` does.
    """
    if lowered is None or starts is None:
        yield from pattern.finditer(text)
        return
    places = {at for literal in starts for at in find_all(lowered, literal)}
    end = 0
    for at in sorted(places):
        if at < end:
            continue
        match = pattern.match(text, at)
        if match is not None:
            yield match
            end = match.end()


def find_all(text: str, needle: str) -> Iterator[int]:
    """Every index where `needle` occurs in `text`, overlapping ones included."""
    at = text.find(needle)
    while at != -1:
        yield at
        at = text.find(needle, at + 1)


class LiteralIndex:
    """Which of many literals occur in a text, found in one pass.

    Triage asks "does any of this rule's literals occur?" for four dozen rules and several
    hundred literals; an `in` test per literal rescans the text each time (776 of them: 47 µs
    on the benchmark's ticket). An Aho-Corasick automaton (pyahocorasick, in C) reports every
    occurrence of every literal, overlapping ones included, in one scan; what follows are set
    operations on the few that occur.
    """

    def __init__(self, literals: Iterable[str]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for literal in literals:
            if literal:
                self._automaton.add_word(literal, literal)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def present(self, text: str) -> frozenset[str]:
        """The indexed literals that occur in `text` (exactly those `literal in text` finds)."""
        if self._empty:
            return frozenset()
        return frozenset(literal for _end, literal in self._automaton.iter(text))


class _Unknown(Exception):
    pass


def _join(heads: set[str], tails: set[str]) -> set[str]:
    if len(heads) * len(tails) > _MAX_LITERALS:
        raise _TooMany
    return {h + t for h in heads for t in tails}


class _TooMany(Exception):
    pass


def _walk(items: list[Any], growing: set[str]) -> tuple[set[str], set[str]]:
    """Follow `items` from the prefixes in `growing`: (prefixes still all-literal at the end,
    prefixes that met a non-literal item and stop there)."""
    done: set[str] = set()
    for op, av in items:
        if not growing:
            break
        try:
            growing, done = _step(op, av, growing, done)
        except _TooMany:
            # Too many combinations to follow: what has been read so far still starts
            # every match, so stop here.
            return set(), _prune(done | growing)
    done = _prune(done)
    if len(_prune(growing | done)) > _MAX_LITERALS:
        raise _Unknown
    return growing, done


def _prune(starts: set[str]) -> set[str]:
    """Drop the literals that begin with another one of the set: a match starting "locked"
    starts "lock". (Not "contains": `finditer` needs where the match starts.)"""
    return {s for s in starts if not any(s != t and s.startswith(t) for t in starts)}


def _prune_contained(literals: set[str]) -> set[str]:
    """Drop the literals that contain another one of the set: for `may_contain`, "lock"
    occurs wherever "unlocked" does."""
    return {s for s in literals if not any(s != t and t in s for t in literals)}


def _step(op: Any, av: Any, growing: set[str], done: set[str]) -> tuple[set[str], set[str]]:
    """One item of a pattern: the new (growing, done); see `_walk`."""
    name = str(op)
    if name == "AT":
        return growing, done  # \\b, ^: zero width
    if name == "LITERAL":
        char = chr(av)
        if not (char.isascii() or char.lower() == char.upper()):
            return set(), done | growing
        return {p + char.lower() for p in growing}, done
    if name == "IN":
        chars = _in_literals(av)
        if chars is None:
            return set(), done | growing
        return _join(growing, chars), done
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, high, item = av
        once_grown, once_done = _walk(list(item), {""})
        taken = _join(growing, once_grown)
        done = done | _join(growing, once_done)
        if (low, high) == (0, 1):  # skipped, or taken exactly once
            return growing | taken, done
        if (low, high) == (1, 1):
            return taken, done
        # Taken, it may repeat: that path stops there. Skipped (low 0), the rest follows.
        return (growing if low == 0 else set()), done | taken
    if name == "SUBPATTERN" and av[1] == 0 and av[2] == 0:
        branches: list[list[Any]] = [list(av[3])]
    elif name == "BRANCH":
        branches = [list(b) for b in av[1]]
    else:
        return set(), done | growing
    grown: set[str] = set()
    stopped: set[str] = set()
    for branch in branches:
        branch_grown, branch_done = _walk(branch, {""})
        grown |= branch_grown
        stopped |= branch_done
    try:
        return _join(growing, grown), done | _join(growing, stopped)
    except _TooMany:
        # Too many ways through to follow on: stop every branch here (still a valid start).
        return set(), done | _join(growing, _prune(grown | stopped))


def lowered_for_literals(text: str) -> str | None:
    """`text.lower()`, in which the literals of an IGNORECASE pattern occur wherever the
    pattern could match; None when the text holds a character that makes that untrue."""
    if not IGNORECASE_SPECIALS.isdisjoint(text):
        return None
    return text.lower()


def may_match(lowered: str | None, literals: tuple[str, ...] | None) -> bool:
    """False only when no match is possible: none of `literals` occurs in `lowered`."""
    if lowered is None or literals is None:
        return True
    return any(map(lowered.__contains__, literals))  # no generator frame: 3x faster
