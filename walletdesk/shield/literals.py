"""Literals a regex match must start with, so a text without any of them skips the regex.

Pure Python, no Django. Python's `re` tries a `\\b(?:a|b|…)`-style alternation at every
position of the text; a handful of `in` tests (C, memchr) answer "can this match at all?"
for a fraction of that. Used by triage and the scam patterns, where most patterns match
nothing in most texts.
"""

from __future__ import annotations

import re
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
    ("locked" contains it); `(请)?转账` gives ("转账",); `.{0,5}x` gives None. Only ASCII and caseless
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
    """Drop the literals that contain another one of the set: "lock" occurs wherever "locked" does."""
    return {s for s in starts if not any(s != t and t in s for t in starts)}


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
    return any(literal in lowered for literal in literals)
