"""Dense and hybrid retrieval (#22): stored passages, the in-process store, the mix.

The model is process-wide (walletdesk.kb.dense.encoder): it loads once for the whole run.
Articles here are short, since each passage costs the model ~0.1 s on this machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from walletdesk.kb import actions, dense, hybrid, index
from walletdesk.kb.actions import ArticleInput, TranslationInput
from walletdesk.kb.models import ArticlePassage

PARAPHRASE_ZH = "我转的币去哪了"


@pytest.fixture
def dense_on(settings: Any) -> None:
    settings.KB_DENSE = True
    settings.KB_INDEX_CHECK_SECONDS = 0


def _article(slug: str = "transfer-not-arrived", **texts: TranslationInput) -> Any:
    translations = texts or {
        "en": TranslationInput(
            "Transfer shows success but has not arrived",
            "Why a completed transfer can take time to appear, and what to check.",
            "Check the network you chose and the transaction hash in a block explorer.\n\n"
            "If the receiving platform needs a memo or tag, contact them with the hash.",
        ),
        "zh-hans": TranslationInput(
            "转账显示成功但没到账",
            "转账完成后为什么可能还没显示，以及要检查什么。",
            "检查你选择的网络，并在区块浏览器里查看交易哈希。\n\n如果收款平台需要备注或标签，请带着哈希联系他们。",
        ),
    }
    return actions.create_article(slug, ArticleInput(category="security", translations=translations))


def _slugs(query: str, language: str = "zh-hans") -> list[str]:
    return [hit.slug for hit in hybrid.search(query, language)]


def test_matrix_store_upserts_removes_and_compacts() -> None:
    rng = np.random.default_rng(1)

    def unit(n: int) -> np.ndarray:
        v = rng.standard_normal((n, dense.DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    a, b = unit(3), unit(2)
    store = dense.MatrixStore.build([("a", a), ("b", b)])
    assert store.search(a[2], 1) == [("a", pytest.approx(1.0, abs=1e-5), 2)]
    store.upsert("a", unit(1))  # replaced: its old passages no longer answer
    assert [key for key, _, _ in store.search(a[2], 2)] != ["a"] or store.search(a[2], 1)[0][1] < 0.9
    store.remove("b")
    store.remove("b")  # twice is harmless
    assert store.keys() == {"a"} and len(store) == 1
    for i in range(20):  # enough churn to compact
        store.upsert(f"k{i}", unit(2))
        store.remove(f"k{i}")
    assert store.keys() == {"a"}
    assert store.search(unit(1)[0], 5)[0][0] == "a"


def test_passages_are_bounded_and_led_by_the_title() -> None:
    body = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(30))
    passages = dense.article_passages("Locked account", "Summary here", body)
    assert passages[0] == "Locked account\nSummary here"
    assert all(p.startswith("Locked account\n") for p in passages)
    assert len(passages) <= dense.MAX_PASSAGES
    assert all(dense.tokens(p) <= dense.PASSAGE_TOKENS + 20 for p in passages)


@pytest.mark.django_db
def test_a_published_article_is_found_by_a_paraphrase_and_leaves_when_unpublished(dense_on: None) -> None:
    article = _article()
    assert ArticlePassage.objects.filter(article=article).exists()  # embedded, as a draft
    assert article.slug not in _slugs(PARAPHRASE_ZH)  # drafts are not searchable

    actions.publish_article(article)
    # The lexical index alone does not find it (no word in common) ...
    assert article.slug not in [hit.slug for hit in index.search(PARAPHRASE_ZH, "zh-hans", 10)]
    # ... the mix does, near the top (the starter articles here have no vectors: only BM25).
    hits = {hit.slug: hit for hit in hybrid.search(PARAPHRASE_ZH, "zh-hans")[:3]}
    hit = hits[article.slug]
    assert hit.article_id == article.pk and hit.dense > 0.8 and hit.language == "zh-hans"
    assert "转账" in hit.passage  # the passage is quoted in the asked language
    english = {hit.slug: hit for hit in hybrid.search("my crypto never showed up at the other end", "en")}
    assert english[article.slug].language == "en"

    actions.unpublish_article(article)
    assert article.slug not in _slugs(PARAPHRASE_ZH)


@pytest.mark.django_db
def test_embedding_is_idempotent_and_an_edit_reembeds_only_what_changed(dense_on: None) -> None:
    article = _article()
    before = dict(ArticlePassage.objects.filter(article=article).values_list("id", "content_hash"))
    assert actions.embed_article(article.pk) == "changed=0"  # a duplicate task writes nothing
    assert dict(ArticlePassage.objects.filter(article=article).values_list("id", "content_hash")) == before

    actions.update_article(
        article,
        ArticleInput(
            category="security",
            translations={
                "en": TranslationInput(
                    "Transfer shows success but has not arrived",
                    "Why a completed transfer can take time to appear, and what to check.",
                    "Check the network you chose and the transaction hash in a block explorer.",
                ),
                "zh-hans": TranslationInput("", "", ""),  # the Chinese translation removed
            },
        ),
    )
    rows = list(ArticlePassage.objects.filter(article=article))
    assert {r.language for r in rows} == {"en"}
    assert rows[0].id in before  # the unchanged title passage kept its row and vector


@pytest.mark.django_db
def test_a_crash_while_storing_leaves_nothing_and_the_retry_completes(
    dense_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_off = pytest.MonkeyPatch()
    from django.conf import settings

    settings_off.setattr(settings, "KB_DENSE", False)
    article = _article()  # created without its task
    settings_off.undo()
    assert not ArticlePassage.objects.filter(article=article).exists()

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker died")

    real = actions.vectors_changed
    monkeypatch.setattr(actions, "vectors_changed", crash)  # the last write of the transaction
    with pytest.raises(RuntimeError):
        actions.embed_article(article.pk)
    assert not ArticlePassage.objects.filter(article=article).exists()  # rolled back whole
    monkeypatch.setattr(actions, "vectors_changed", real)
    assert actions.embed_article(article.pk).startswith("changed=")
    assert ArticlePassage.objects.filter(article=article).count() >= 4
    assert article.pk not in actions.articles_to_embed()  # the backfill has nothing left for it


@pytest.mark.django_db
def test_hybrid_search_is_lexical_without_vectors(settings: Any, starter: None) -> None:
    settings.KB_DENSE = False
    hits = hybrid.search("账户被锁", "zh-hans")
    assert hits and hits[0].slug == "account-locked" and hits[0].dense == 0.0
    assert hits[0].passage  # the title and summary stand in for the passage


def test_offline_index_mixes_both_sides() -> None:
    docs = [
        ("pending", "zh-hans", "转账显示成功但没到账\n检查交易哈希\n在区块浏览器里查看。"),
        ("password", "en", "Forgot password\nReset it by email\nTap Forgot password on the login screen."),
    ]
    index = hybrid.HybridIndex.build(docs)
    assert index.search(PARAPHRASE_ZH, 1)[0][0] == "pending"
    assert index.dense_search("I can't remember my login code", 1)[0][0] == "password"
    assert index.search("", 3) == []
