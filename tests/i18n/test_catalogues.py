"""Every Chinese catalogue (zh_Hans and zh_Hant, every app) is complete, keeps its placeholders,
writes Chinese punctuation, and ships a .mo that says what its .po says.

A missing or fuzzy translation shows English (or nothing) on a Chinese page; a renamed
%(name)s raises KeyError at render time; a stale .mo shows yesterday's text."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("walletdesk/**/locale/zh_Han[st]/LC_MESSAGES/django.po"))
HANS = [p for p in CATALOGUES if "zh_Hans" in p.parts]
IDS = [str(p.relative_to(ROOT / "walletdesk").parent.parent.parent) + ":" + p.parts[-3] for p in CATALOGUES]

NAMED = re.compile(r"%\((\w+)\)[sdfrxi]")
BARE = re.compile(r"%[sdfrxi]")
HAN = re.compile(r"[\u3400-\u9fff]")
# ASCII punctuation right after a Chinese character: 您好, → 您好，  完成. → 完成。  原因: → 原因：
ASCII_AFTER_HAN = re.compile(r"[\u3400-\u9fff][,.:;!?](?=\s|$|\S)")
# A Chinese sentence must end in Chinese: not "…%(when)s." nor "…完成"
ENDS_ASCII = re.compile(r"[.,:;!?]\s*$")


def _used(path: Path) -> list[polib.POEntry]:
    # makemessages marks a msgid no source uses any more as obsolete (#~); those are not shown.
    return [e for e in polib.pofile(str(path)) if not e.obsolete]


def _strs(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def test_the_catalogues_were_found() -> None:
    assert len(HANS) >= 9
    assert len(CATALOGUES) == 2 * len(HANS)


@pytest.mark.parametrize("hans", HANS, ids=[str(p.parents[2].relative_to(ROOT)) for p in HANS])
def test_every_simplified_catalogue_has_a_traditional_one(hans: Path) -> None:
    assert (hans.parents[2] / "zh_Hant" / "LC_MESSAGES" / "django.po").exists()


@pytest.mark.parametrize("path", CATALOGUES, ids=IDS)
def test_no_used_string_is_untranslated_or_fuzzy(path: Path) -> None:
    missing = [e.msgid for e in _used(path) if e.msgid and not all(_strs(e))]
    fuzzy = [e.msgid for e in _used(path) if "fuzzy" in e.flags and e.msgid]
    assert missing == [], f"untranslated in {path}"
    assert fuzzy == [], f"fuzzy in {path}"


@pytest.mark.parametrize("path", CATALOGUES, ids=IDS)
def test_translations_keep_every_placeholder(path: Path) -> None:
    wrong = []
    for entry in _used(path):
        names = set(NAMED.findall(entry.msgid)) | set(NAMED.findall(entry.msgid_plural or ""))
        bare = len(BARE.findall(entry.msgid))
        for text in _strs(entry):
            if text and (set(NAMED.findall(text)) != names or len(BARE.findall(text)) != bare):
                wrong.append((entry.msgid, text))
    assert wrong == []


@pytest.mark.parametrize("path", CATALOGUES, ids=IDS)
def test_chinese_sentences_use_chinese_punctuation(path: Path) -> None:
    wrong = []
    for entry in _used(path):
        for text in _strs(entry):
            if not HAN.search(text):
                continue
            if ASCII_AFTER_HAN.search(text) or ENDS_ASCII.search(text):
                wrong.append((entry.msgid, text))
    assert wrong == []


@pytest.mark.parametrize("path", CATALOGUES, ids=IDS)
def test_the_mo_says_what_the_po_says(path: Path) -> None:
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: msgfmt --check-format -o django.mo django.po"
    po_entries = {(e.msgctxt, e.msgid): _strs(e) for e in polib.pofile(str(path)).translated_entries()}
    mo_entries = {(e.msgctxt, e.msgid): _strs(e) for e in polib.mofile(str(mo)) if e.msgid}
    stale = {k: v for k, v in po_entries.items() if mo_entries.get(k) != v}
    extra = set(mo_entries) - set(po_entries)
    assert (stale, extra) == ({}, set()), f"{mo} is older than its .po: run msgfmt (or scripts/make_zh_hant)"


def test_the_traditional_catalogues_are_regenerated_from_the_simplified_ones() -> None:
    # Someone added zh_Hans strings and did not run scripts/make_zh_hant: zh-hant users would
    # see English for them.
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_zh_hant"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# Punctuation written in a template right after a translated phrase is English punctuation on a
# Chinese page ("您的工单编号: WD-…"): it belongs inside the msgid, or in the "label separator".
TEMPLATE_PUNCTUATION = re.compile(
    r'(?:\{% trans "[^"]*" ?%\}|\{% endblocktrans ?%\})[:;,.]'
    r"|%\}[,:;] ?\{% (?:blocktrans|trans) "  # "{% endif %}, {% blocktrans %}…": between two phrases
)


def test_no_template_puts_english_punctuation_after_a_translated_phrase() -> None:
    wrong = []
    for template in sorted(ROOT.glob("walletdesk/**/templates/**/*.html")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            for found in TEMPLATE_PUNCTUATION.finditer(line):
                wrong.append(f"{template.relative_to(ROOT)}:{number}: {found.group()}")
    assert wrong == []
