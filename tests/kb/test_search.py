"""Search behaviour a help-centre user would notice, on a small bilingual corpus."""

from __future__ import annotations

import pytest

from walletdesk.kb.search import SearchIndex, analyse, normalise

DOCS = [
    ("forgot-password", "Reset your password\nForgot your password? Request a reset link by email."),
    ("forgot-password", "忘记登录密码怎么办\n忘记密码时，可以通过发送到邮箱的重置链接设置新密码。"),
    ("account-locked", "Account locked after wrong passwords\nWait 30 minutes or use the unlock link."),
    ("account-locked", "账户被锁定怎么办\n多次输错密码后账户会被锁定，可以等待自动解锁或使用解锁链接。"),
    ("seed-phrase", "Never share your recovery phrase\nNobody from support will ask for it."),
    ("seed-phrase", "永远不要泄露助记词\n客服不会向你索要助记词或私钥。"),
    ("gas-fees", "Network fees explained\nEvery transfer pays gas to the blockchain, not to us."),
    ("gas-fees", "网络手续费是什么\n每一笔转账都要向区块链网络支付矿工费。"),
    ("two-factor", "Turn on two-factor authentication\nUse an authenticator app for 2FA codes."),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build(DOCS)


def top(index: SearchIndex, query: str) -> str | None:
    hits = index.search(query, k=3)
    return hits[0][0] if hits else None


def test_chinese_query_finds_the_chinese_article(index: SearchIndex) -> None:
    assert top(index, "我的账户被锁定了怎么办") == "account-locked"


def test_traditional_query_finds_the_simplified_article(index: SearchIndex) -> None:
    assert top(index, "我的帳戶被鎖定了怎麼辦") == "account-locked"
    assert top(index, "助記詞可以給客服嗎") == "seed-phrase"


def test_english_typos_still_find_the_article(index: SearchIndex) -> None:
    assert top(index, "pasword resett") == "forgot-password"
    assert top(index, "acount lockd") == "account-locked"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("口令忘了", "forgot-password"),  # 口令 -> 密码
        ("forgot my passcode", "forgot-password"),  # passcode -> password
        ("mnemonic", "seed-phrase"),  # -> recovery phrase / 助记词
        ("account frozen", "account-locked"),  # frozen -> locked
        ("gas 太贵", "gas-fees"),
        ("怎么开启谷歌验证器", "two-factor"),  # 谷歌验证器 -> authenticator / 2FA
    ],
)
def test_synonyms_find_the_article(index: SearchIndex, query: str, expected: str) -> None:
    assert top(index, query) == expected


def test_mixed_language_query(index: SearchIndex) -> None:
    assert top(index, "imToken 助记词 lost") == "seed-phrase"
    assert top(index, "忘了 password 怎么办") == "forgot-password"


@pytest.mark.parametrize("query", ["", "   ", "!!!???", "的了吗", "the and of", "🙂🙂", "x" * 5000, "\x00"])
def test_empty_or_garbage_query_returns_nothing(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_k_is_respected(index: SearchIndex) -> None:
    assert len(index.search("password 密码 账户 fee", k=2)) == 2
    assert index.search("password", k=0) == []


def test_scores_descend_and_ids_are_unique(index: SearchIndex) -> None:
    hits = index.search("密码 password locked 转账 gas", k=10)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(score > 0 for score in scores)
    assert len({doc_id for doc_id, _ in hits}) == len(hits)


def test_len_counts_distinct_doc_ids(index: SearchIndex) -> None:
    assert len(index) == 5


def test_empty_index() -> None:
    empty = SearchIndex.build([])
    assert len(empty) == 0
    assert empty.search("password") == []


def test_rebuild_reflects_changes() -> None:
    before = SearchIndex.build([("a", "Old article about fees")])
    after = SearchIndex.build([("a", "Old article about fees"), ("b", "New article about approvals")])
    assert before.search("approval") == []
    assert after.search("approval")[0][0] == "b"


def test_normalise_handles_full_width_and_traditional() -> None:
    assert normalise("ＰＡＳＳＷＯＲＤ 帳戶") == "password 账户"


def test_analyse_drops_stop_words_and_stems() -> None:
    terms = analyse("The passwords were resetting")
    assert "the" not in terms
    assert "password" in terms and "reset" in terms


def test_library_code_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    SearchIndex.build([("x", "第一次加载结巴词典")]).search("词典")
    captured = capsys.readouterr()
    assert captured.out == ""
