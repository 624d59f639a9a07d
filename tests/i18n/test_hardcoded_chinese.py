"""Chinese written straight into templates and help articles takes Chinese punctuation, like the
catalogues (test_catalogues): no ASCII `,.:;!?` after a Chinese character, and a Chinese
sentence ends in Chinese (。！？：…), not in nothing. The zh-hant mail templates are generated
from the zh-hans ones, so they are checked too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    p for p in ROOT.glob("walletdesk/**/templates/**/*") if p.suffix in (".html", ".txt") and p.is_file()
)
ARTICLES = sorted(ROOT.glob("walletdesk/kb/content/*.zh-hans.md"))

HAN = re.compile(r"[\u3400-\u9fff]")
ASCII_AFTER_HAN = re.compile(r"[\u3400-\u9fff][,.:;!?](?=\s|$|\S)")
# ...or before the next Chinese clause, after a value: "编号是 {{ ref }}, 请保留"
ASCII_BEFORE_HAN = re.compile(r"[,;!?]\s*[\u3400-\u9fff]")
COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
VARIABLE = re.compile(r"{{.*?}}", re.S)
TAG = re.compile(r"{%.*?%}", re.S)
# Inline elements stay inside their sentence; any other element ends a piece of text.
INLINE = re.compile(r"</?(?:a|strong|em|b|i|code|span|kbd|abbr|time)\b[^>]*>", re.I)
ELEMENT = re.compile(r"<[^>]+>")
CHINESE_END = "。！？：；…」』）”"
# A label or a link text is a few words; a sentence is longer or has a clause inside.
SENTENCE = re.compile(r"[，。；]|[\u3400-\u9fff](?:[^\u3400-\u9fff]*[\u3400-\u9fff]){11}")


def pieces(text: str) -> list[str]:
    """The text a template shows, cut where a tag or a block element ends it."""
    text = COMMENT_BLOCK.sub("", text)
    text = VARIABLE.sub("X", text)
    text = TAG.sub("\n", text)
    text = INLINE.sub("", text)
    text = ELEMENT.sub("\n", text)
    return [line.strip() for line in text.splitlines() if HAN.search(line)]


def wrong_in(text: str) -> list[str]:
    wrong = []
    for piece in pieces(text):
        if ASCII_AFTER_HAN.search(piece) or ASCII_BEFORE_HAN.search(piece):
            wrong.append(piece)
        elif SENTENCE.search(piece) and HAN.match(piece[-1]):
            wrong.append(piece)  # a Chinese sentence that just stops
    return wrong


def test_the_checks_catch_what_they_are_for() -> None:
    assert wrong_in("<p>请稍后再试.</p>") == ["请稍后再试."]
    assert wrong_in("<p>您的请求编号是 {{ ref }}, 请保留</p>") == ["您的请求编号是 X, 请保留"]
    assert wrong_in("<p>如需帮助，请直接回复本邮件</p>") == ["如需帮助，请直接回复本邮件"]
    assert wrong_in("<p>您的请求 <strong>{{ ref }}</strong> 已解决。</p><a>查看您的请求</a>") == []
    assert wrong_in("{% comment %}不是句子, 不显示{% endcomment %}<p>好。</p>") == []


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(ROOT / "walletdesk")) for p in TEMPLATES])
def test_hard_coded_chinese_in_templates_uses_chinese_punctuation(path: Path) -> None:
    assert wrong_in(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", ARTICLES, ids=[p.name for p in ARTICLES])
def test_help_articles_use_chinese_punctuation(path: Path) -> None:
    text = re.sub(r"`[^`]*`|\]\([^)]*\)|https?://\S+", "", path.read_text(encoding="utf-8"))
    body = text.split("\n---", 2)[-1] if text.startswith("---") else text
    wrong = [
        line for line in body.splitlines() if ASCII_AFTER_HAN.search(line) or ASCII_BEFORE_HAN.search(line)
    ]
    assert wrong == []
