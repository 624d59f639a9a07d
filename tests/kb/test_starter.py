"""The starter articles: complete, bilingual, consistent, and covering every support topic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from walletdesk.kb.search import SearchIndex
from walletdesk.kb.starter import (
    CATEGORIES,
    LANGUAGES,
    TICKET_CATEGORIES,
    FrontMatterError,
    StarterArticle,
    load_starter_articles,
    parse_front_matter,
)

ARTICLES = load_starter_articles()
BY_SLUG = {article.slug: article for article in ARTICLES}


def test_there_are_enough_articles() -> None:
    assert 15 <= len(ARTICLES) <= 25


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.slug)
def test_every_article_has_both_languages_and_front_matter(article: StarterArticle) -> None:
    assert set(article.translations) == set(LANGUAGES)
    assert article.category in CATEGORIES
    assert article.position >= 1
    assert article.ticket_categories
    assert set(article.ticket_categories) <= set(TICKET_CATEGORIES)
    for translation in article.translations.values():
        assert translation.title and translation.summary
        assert not translation.body_markdown.startswith("---")


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.slug)
def test_article_length_is_150_to_400_words(article: StarterArticle) -> None:
    english_words = len(re.findall(r"[A-Za-z0-9']+", article.translations["en"].body_markdown))
    # Chinese has no spaces: count characters, ~1.7 per English-word equivalent.
    chinese_chars = len(re.findall(r"[\u4e00-\u9fff]", article.translations["zh-hans"].body_markdown))
    assert 150 <= english_words <= 400
    assert 250 <= chinese_chars <= 900


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.slug)
def test_related_slugs_exist(article: StarterArticle) -> None:
    assert article.related
    for slug in article.related:
        assert slug in BY_SLUG and slug != article.slug


def test_positions_are_unique_within_a_category() -> None:
    seen = [(article.category, article.position) for article in ARTICLES]
    assert len(seen) == len(set(seen))


def test_no_invented_phone_numbers() -> None:
    for article in ARTICLES:
        for translation in article.translations.values():
            assert not re.search(r"\+?\d[\d\s-]{7,}\d", translation.body_markdown), article.slug


# Each topic the help centre must answer: the article that answers it, and a question a
# user might type in each language; that article must be among the first three hits.
TOPICS: dict[str, tuple[str, str, str]] = {
    "official support channels": (
        "contact-official-support",
        "how do I contact official support",
        "怎么联系官方客服",
    ),
    "fake support": ("recognise-fake-support", "how to spot fake support", "怎么识别假冒客服"),
    "support is free": ("support-is-free", "is support free", "客服收费吗"),
    "a good request": (
        "write-a-good-request",
        "what to include in a support request",
        "提交请求要准备哪些信息",
    ),
    "while waiting": ("while-you-wait", "reference number while waiting for reply", "等待回复期间注意什么"),
    "locked after wrong passwords": ("account-locked", "account locked wrong password", "输错密码账户被锁定"),
    "unlock link by email": ("account-locked", "unlock link email", "解锁链接邮件"),
    "network problems": ("login-network-problems", "login network error", "登录网络错误"),
    "app faults": ("app-crashes-or-errors", "app crash reinstall update", "App闪退重装更新"),
    "forgotten password": ("forgot-password", "forgot password reset link", "忘记密码重置链接"),
    "unauthorised transaction": (
        "unauthorised-transaction",
        "transaction I did not make",
        "不是我操作的交易",
    ),
    "account activity": ("check-account-activity", "check login activity", "查看登录记录"),
    "token approvals": ("revoke-token-approvals", "revoke token approval", "取消代币授权"),
    "password and 2FA": ("change-password-enable-2fa", "change password enable 2FA", "修改密码开启二次验证"),
    "stolen account": ("account-stolen-recovery", "account stolen recovery", "账户被盗找回"),
    "identity documents": (
        "identity-documents",
        "ID card passport driving licence front and back",
        "身份证护照驾照正反面",
    ),
    "network fees": ("network-fees-explained", "gas fee paid to blockchain", "矿工费付给谁"),
    "paid links are scams": ("paid-support-links-scam", "pay unfreeze fee link scam", "交解冻费付款链接骗局"),
    "never share the recovery phrase": (
        "never-share-recovery-phrase",
        "never share recovery phrase private key",
        "不要泄露助记词私钥",
    ),
}


@pytest.fixture(scope="module")
def starter_index() -> SearchIndex:
    docs = []
    for article in ARTICLES:
        for t in article.translations.values():
            docs.append((article.slug, f"{t.title}\n{t.summary}\n{t.body_markdown}"))
    return SearchIndex.build(docs)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_is_covered(topic: str, starter_index: SearchIndex) -> None:
    slug, *queries = TOPICS[topic]
    assert slug in BY_SLUG
    for query in queries:
        hits = [doc_id for doc_id, _ in starter_index.search(query, k=3)]
        assert slug in hits, f"{topic}: {query!r} -> {hits}"


def test_parse_front_matter() -> None:
    meta, body = parse_front_matter("---\ntitle: A: B\nrelated:\n---\n# Hello\n")
    assert meta == {"title": "A: B", "related": ""}
    assert body == "# Hello\n"


@pytest.mark.parametrize("text", ["no front matter", "---\ntitle: x\n", "---\nnot a pair\n---\nbody"])
def test_parse_front_matter_rejects_malformed(text: str) -> None:
    with pytest.raises(FrontMatterError):
        parse_front_matter(text)


def test_loader_rejects_unknown_category(tmp_path: Path) -> None:
    (tmp_path / "x.en.md").write_text(
        "---\ntitle: T\ncategory: nope\nsummary: S\nrelated:\n"
        "ticket_categories: other\nposition: 1\n---\nB\n",
        encoding="utf-8",
    )
    with pytest.raises(FrontMatterError, match="category"):
        load_starter_articles(tmp_path)


def test_loader_rejects_languages_that_disagree(tmp_path: Path) -> None:
    head = (
        "---\ntitle: T\ncategory: security\nsummary: S\nrelated:\n"
        "ticket_categories: {}\nposition: 1\n---\nB\n"
    )
    (tmp_path / "x.en.md").write_text(head.format("fees"), encoding="utf-8")
    (tmp_path / "x.zh-hans.md").write_text(head.format("other"), encoding="utf-8")
    with pytest.raises(FrontMatterError, match="differs"):
        load_starter_articles(tmp_path)
