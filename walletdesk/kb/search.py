"""Keyword search over help-centre articles for users who write Chinese, English or both.

Pure Python on plain data: no database, no Django. The app builds a `SearchIndex` from
(doc_id, text) pairs and rebuilds it whenever an article changes (cheap at ~1000 articles).

    index = SearchIndex.build([("account-locked", "Account locked ..."), ...])
    index.search("我的账户被锁了", k=5)  # -> [("account-locked", 7.3), ...] best first

What the analyser does to every text, at index and at query time alike:

* NFKC (full-width letters and digits become ASCII) and lower case;
* Traditional Chinese -> Simplified with OpenCC (fast character table first; phrase rules
  only for text that has Traditional characters);
* Chinese runs are segmented with a private jieba tokenizer that knows wallet words;
  English words are stemmed with Snowball (PyStemmer); stop words of both are dropped;
* each field term (密码/口令/password/passcode …) also emits one *concept* token, so a
  synonym in the query matches the article's wording in either language.

At query time, an English word that is not in the index vocabulary is corrected to the
closest vocabulary term within edit distance 1 (2 for long words), so typos still find.
Ranking is BM25 (bm25s, Lucene variant); the scorer below reuses bm25s' precomputed
term-document matrix but accumulates weighted query terms itself (see `_score`).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np
import opencc
import Stemmer
from rapidfuzz import process as fuzz_process
from rapidfuzz.distance import OSA

__all__ = ["SearchIndex", "analyse"]

# ---------------------------------------------------------------------------
# Field vocabulary
# ---------------------------------------------------------------------------

# Each group is one concept: any member, in any language, also emits the group's
# concept token. Multi-word English members are matched as stemmed word sequences.
SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    "password": ("密码", "口令", "登录密码", "password", "passcode", "pwd", "passwd"),
    "seedphrase": (
        "助记词",
        "恢复短语",
        "私钥",
        "seed phrase",
        "recovery phrase",
        "secret phrase",
        "mnemonic",
        "seed words",
        "private key",
        "12 words",
    ),
    "locked": ("冻结", "锁定", "被锁", "锁住", "封号", "locked", "frozen", "lockout", "blocked", "suspended"),
    "unlock": ("解锁", "解冻", "解封", "unlock", "unfreeze", "unblock"),
    "fee": ("手续费", "矿工费", "网络费", "燃料费", "gas", "fee", "fees", "charge", "cost"),
    "transfer": ("转账", "交易", "转币", "提币", "汇款", "transaction", "transfer", "tx", "send", "payment"),
    "account": ("账户", "账号", "户口", "account", "user id"),
    "stolen": (
        "被盗",
        "盗号",
        "被黑",
        "盗走",
        "盗",
        "被人盗",
        "stolen",
        "hacked",
        "stole",
        "compromised",
        "drained",
    ),
    "support": ("客服", "人工客服", "支持团队", "support", "customer service", "helpdesk", "agent"),
    "approval": ("授权", "approval", "approve", "allowance", "permission"),
    "revoke": ("取消授权", "撤销", "revoke", "revocation"),
    # Question words: light (LIGHT_WEIGHT), but 怎么 and 如何 ask the same thing.
    "how": ("怎么", "如何", "怎样", "怎么样", "咋", "how"),
    "why": ("为什么", "为何", "怎么会", "why"),
    "can": ("可以", "能不能", "可不可以", "能否", "can"),
    "twofa": (
        "二次验证",
        "双重认证",
        "双重验证",
        "两步验证",
        "谷歌验证器",
        "验证器",
        "2fa",
        "mfa",
        "two factor",
        "authenticator",
        "totp",
        "2 step",
    ),
    "login": (
        "登录",
        "登陆",
        "登入",
        "登不上",
        "登不进",
        "进不去",
        "login",
        "log in",
        "sign in",
        "signin",
        "logon",
    ),
    "forgot": ("忘记", "忘了", "想不起", "forgot", "forget", "forgotten"),
    "reset": ("重置", "找回", "重设", "reset", "recover"),
    "scam": (
        "诈骗",
        "被骗",
        "骗子",
        "骗局",
        "钓鱼",
        "假冒",
        "scam",
        "scammer",
        "fraud",
        "phishing",
        "fake",
        "impersonat",
    ),
    "pending": ("卡住", "未到账", "没到账", "不到账", "确认中", "pending", "stuck", "unconfirmed"),
    "network": ("网络", "断网", "信号", "wifi", "vpn", "network", "connection", "internet", "offline"),
    "crash": ("闪退", "崩溃", "卡死", "白屏", "打不开", "crash", "freez", "froze"),
    "update": ("更新", "升级", "新版本", "重装", "重新安装", "update", "upgrade", "reinstall"),
    "identity": (
        "身份证",
        "护照",
        "驾照",
        "驾驶证",
        "证件",
        "id card",
        "passport",
        "driving licence",
        "driver licens",
    ),
    "email": ("邮箱", "邮件", "电子邮件", "email", "e mail", "mail", "inbox"),
    "contact": ("联系", "联络", "找到", "contact", "reach", "get in touch"),
    "ticket": ("工单", "请求", "申请", "ticket", "request", "case"),
    "refund": ("退款", "退钱", "追回", "refund", "money back", "get back"),
    "free": ("免费", "收费", "付费", "free", "paid", "pay"),
    "hash": ("哈希", "交易哈希", "交易号", "txid", "hash", "tx id"),
    "device": ("手机", "设备", "安卓", "苹果", "iphone", "android", "device", "phone"),
    "error": ("报错", "错误", "错误码", "提示", "error", "code"),
}

# Words jieba's general dictionary splits badly; teaching them to our private tokenizer
# keeps e.g. 助记词 one token instead of 助记 + 词.
EXTRA_CHINESE_WORDS: tuple[str, ...] = (
    "助记词",
    "恢复短语",
    "矿工费",
    "网络费",
    "燃料费",
    "二次验证",
    "双重认证",
    "双重验证",
    "两步验证",
    "谷歌验证器",
    "验证器",
    "盗号",
    "被盗",
    "被锁",
    "解冻费",
    "取消授权",
    "交易哈希",
    "未到账",
    "没到账",
    "人工客服",
    "闪退",
    "白屏",
    "重置链接",
    "解锁链接",
    "钓鱼网站",
    "官方渠道",
    "工单",
    "登录密码",
    "钱包地址",
    "登不上",
    "登不进",
)

# Dropped: words that never tell one question from another.
ENGLISH_STOP_WORDS = frozenset(
    """a an the and or of to in on at for by as is are am be been being was were it its itself this
    that these those i i'm im ive me my myself we our ours you your yours yourself u ur he she they
    them their his her hi hello hey pls please plz thanks thank""".split()  # noqa: SIM905 - a word list reads better as text
)

# Light in a query (LIGHT_WEIGHT), like CHINESE_LIGHT_WORDS: question words, modals and
# negations shape the question ("why was my card declined", "can't log in") without naming it.
ENGLISH_LIGHT_WORDS = frozenset(
    """about above after again all any before below between both but can could did do does doing
    down during each few from further had has have having here how if into just more most no nor
    not now off once only other out over own same should so some such than then there through too
    under until up very what when where which while who whom why will with would can't cant dont
    don't doesnt didnt wont anyone someone what's whats get got still""".split()  # noqa: SIM905 - a word list reads better as text
)

# Only particles and interjections. Question words (怎么, 如何, 为什么, 哪里), modals (可以, 能,
# 要) and pronouns are *not* stop words: in short customer questions they carry the intent
# ("可以提前还款吗" is not "提前还款"), and BM25's idf already makes the common ones cheap.
# A longer list once dropped them and lost to plain jieba+BM25 on paraphrase sets.
CHINESE_STOP_WORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 哦 嗯 么 着 地 得 嘛 哈 哇 喔 呗 啦 之""".split()  # noqa: SIM905 - a word list reads better as text
)

# Words that shape a question without naming its subject: indexed and searched like any
# other, but a query counts them LIGHT_WEIGHT, so in a long article's ranking they break ties
# rather than outvote the subject ("怎么" in every how-to must not pick the article).
CHINESE_LIGHT_WORDS = frozenset(
    """我 我的 我们 你 你们 您 他 她 它 这 那 这个 那个 是 在 有 就 都 也 还 又 和 与 及 或 把 被 让 给
    从 对 向 于 为 为什么 什么 怎么 怎么办 怎样 如何 怎么样 咋 咋办 请问 请 一下 一个 可以 能 能不能
    可不可以 是不是 要 想 会 现在 已经 之后 然后 如果 因为 所以 但是 而且 以及 等 等等 其 该 此 些 很
    太 非常 就是 自己 大家 时候 过""".split()  # noqa: SIM905 - a word list reads better as text
)

# ---------------------------------------------------------------------------
# Analyser
# ---------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_ASCII_WORD = re.compile(r"[a-z]+")

# Query-term weights, tuned on bench/kb_eval.py (see the bench for the figures).
CONCEPT_WEIGHT = 0.8
TYPO_WEIGHT = 0.8
# The first line of a text is its title: its terms are counted this many times.
TITLE_REPEAT = 3
# Search-mode sub-words (转账记录 -> 转账, 记录; see `_subwords`) count this much in a query: they
# let a long word find articles that use its parts (and the reverse), yet the whole word,
# when the article has it, still ranks first. Tuned on the tuning set (bench/kb_eval.py).
SUBWORD_WEIGHT = 0.5
LIGHT_WEIGHT = 0.3
LIGHT_CONCEPTS = frozenset({"~how", "~why", "~can"})

# Relevance cut-off, calibrated on bench/kb_eval.py (figures there and in docs/architecture.md).
# BM25 gives every article that shares one word with the query a score, so without a cut-off a
# vague query listed nearly every article. Two tests, both independent of the corpus's size:
# * coverage: the share of the query's words the index knows (a word found only through typo
#   correction counts TYPO_COVERAGE: "cake" -> "fake" is as likely a stranger as a typo). A
#   query mostly about something no article covers ("bake a chocolate cake") matches nothing.
# * relative: a hit scoring under RELATIVE_CUTOFF x the best hit is noise next to it.
MIN_COVERAGE = 0.3
TYPO_COVERAGE = 0.4
RELATIVE_CUTOFF = 0.4

_jieba_lock = threading.Lock()
_jieba_tokenizer: jieba.Tokenizer | None = None
_stemmer = Stemmer.Stemmer("english")


def _tokenizer() -> jieba.Tokenizer:
    """A private, lazily initialised jieba tokenizer.

    Private so our extra words never change the segmentation other parts of the project
    get from the global `jieba` functions; quiet because jieba logs its dictionary load
    to stderr at DEBUG level by default.
    """
    global _jieba_tokenizer
    if _jieba_tokenizer is None:
        with _jieba_lock:
            if _jieba_tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                # Built on the global tokenizer's dictionary (tickets.search loads it too)
                # rather than loading jieba's dictionary a second time: a copy of the dict
                # shares its ~500k words and costs ~15 MiB, a second load ~55 MiB (issue #23).
                # Nothing adds words to the global one, so both start from the same words.
                jieba.initialize()
                tokenizer = jieba.Tokenizer()
                tokenizer.FREQ, tokenizer.total = dict(jieba.dt.FREQ), jieba.dt.total
                tokenizer.initialized = True
                for word in EXTRA_CHINESE_WORDS:
                    tokenizer.add_word(word, freq=200_000)
                for members in SYNONYM_GROUPS.values():
                    for word in members:
                        if _HAS_CJK.match(word) and len(word) > 1:
                            tokenizer.add_word(word, freq=200_000)
                _jieba_tokenizer = tokenizer
    return _jieba_tokenizer


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Traditional -> Simplified character table, read from OpenCC's TSCharacters."""
    table: dict[int, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets:
            table[ord(source)] = targets.split()[0]
    # 帐 and 账 are both Simplified; in a wallet's help centre it is always 账 (account).
    table[ord("帐")] = "账"
    table[ord("帳")] = "账"
    return table


@lru_cache(maxsize=1)
def _t2s_converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    """Traditional -> Simplified, with OpenCC's phrase rules only where they are needed.

    OpenCC's converter segments phrases in pure Python (~20 us a query, ~2.3 ms per 1000
    characters), which would dominate index builds. Its character table alone is ~20x
    faster and is a no-op on Simplified text, so it doubles as the test "is there any
    Traditional here?"; only such text pays for the phrase pass (回覆 -> 回复, not 回覆).
    """
    table = _t2s_table()
    if text.translate(table) == text:
        return text
    return _t2s_converter().convert(text).translate(table)


def normalise(text: str) -> str:
    """NFKC, lower case, Traditional -> Simplified."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    if not text.isascii():
        text = _to_simplified(text)
    return text


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word.replace("'", ""))


def _words(text: str) -> list[str]:
    """Normalised text -> terms (stemmed English, segmented Chinese), stop words dropped."""
    terms: list[str] = []
    for run in _RUNS.findall(text):
        if _HAS_CJK.match(run):
            for word in _tokenizer().lcut(run, HMM=True):
                if word not in CHINESE_STOP_WORDS:
                    terms.append(word)
        elif run not in ENGLISH_STOP_WORDS:
            terms.append(_stem(run))
    return terms


@lru_cache(maxsize=1)
def _light_words() -> frozenset[str]:
    """CHINESE_LIGHT_WORDS and ENGLISH_LIGHT_WORDS as index terms (English ones stemmed)."""
    return CHINESE_LIGHT_WORDS | {_stem(word) for word in ENGLISH_LIGHT_WORDS}


@lru_cache(maxsize=65536)
def _word_parts(word: str) -> tuple[str, ...]:
    """The dictionary words inside a Chinese word of 3+ characters, as jieba's search mode finds them.

    Precise segmentation keeps 转账记录 or 没到账 whole, so a question with 转账 or 到账 alone
    never met them. `jieba.cut_for_search` adds every 2- and 3-character slice that is itself
    a dictionary word; this is the same rule, kept apart from the precise terms so the synonym
    matcher still sees whole words in order.
    """
    if len(word) < 3 or not _HAS_CJK.match(word):
        return ()
    freq = _tokenizer().FREQ
    parts = [word[i : i + n] for n in (2, 3) if len(word) > n for i in range(len(word) - n + 1)]
    return tuple(dict.fromkeys(p for p in parts if freq.get(p) and p not in CHINESE_STOP_WORDS))


def _subwords(terms: Sequence[str]) -> list[str]:
    return [part for term in terms for part in _word_parts(term)]


def _build_concept_matcher() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """first term -> [(term sequence, concept token)], longest sequence first."""
    matcher: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for concept, members in SYNONYM_GROUPS.items():
        for member in members:
            sequence = tuple(_words(normalise(member)))
            if sequence:
                matcher.setdefault(sequence[0], []).append((sequence, "~" + concept))
    for candidates in matcher.values():
        candidates.sort(key=lambda item: -len(item[0]))
    return matcher


@lru_cache(maxsize=1)
def _concept_matcher() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    return _build_concept_matcher()


def _concept_spans(terms: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, length, concept token) for the synonym-group members found in `terms`."""
    matcher = _concept_matcher()
    found: list[tuple[int, int, str]] = []
    for i, term in enumerate(terms):
        for sequence, concept in matcher.get(term, ()):
            if tuple(terms[i : i + len(sequence)]) == sequence:
                found.append((i, len(sequence), concept))
                break
    return found


def _concepts(terms: Sequence[str]) -> list[str]:
    """Concept tokens for the synonym-group members found in `terms`."""
    return [concept for _, _, concept in _concept_spans(terms)]


def analyse(text: str) -> list[str]:
    """Text -> index terms: words, their search-mode sub-words, the concept tokens of field synonyms."""
    terms = _words(normalise(text))
    return terms + _subwords(terms) + _concepts(terms)


# ---------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------


def _max_typo_distance(word: str) -> int:
    # Short words have too many neighbours ("fee" -> "see"): correct only from 4 letters.
    if len(word) < 4:
        return 0
    return 1 if len(word) < 8 else 2


@dataclass(frozen=True, slots=True)
class _Postings:
    """bm25s' precomputed BM25 weights, one CSC column per vocabulary term."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray


class SearchIndex:
    """An immutable BM25 index over (doc_id, text) pairs; build a new one to change it.

    A doc_id may appear more than once (e.g. the English and the Chinese version of one
    article): it is returned once, with the score of its best-matching text.
    """

    def __init__(
        self,
        doc_ids: list[str],
        postings: _Postings,
        vocabulary: dict[str, int],
        english_vocabulary: list[str],
        max_rows_per_id: int,
    ) -> None:
        self._row_ids = doc_ids
        self._postings = postings
        self._vocabulary = vocabulary
        self._english_vocabulary = english_vocabulary
        self._max_rows_per_id = max_rows_per_id
        self._distinct_ids = len(set(doc_ids))

    @classmethod
    def build(cls, docs: Iterable[tuple[str, str]]) -> SearchIndex:
        doc_ids: list[str] = []
        corpus: list[list[str]] = []
        for doc_id, text in docs:
            title, _, _ = text.strip().partition("\n")
            terms = analyse(text)
            if TITLE_REPEAT > 1 and title:
                terms += analyse(title) * (TITLE_REPEAT - 1)
            doc_ids.append(doc_id)
            corpus.append(terms)
        if not doc_ids:
            empty = np.zeros(0, dtype=np.float32)
            return cls([], _Postings(empty, empty.astype(np.int32), np.zeros(1, np.int32)), {}, [], 1)

        retriever = bm25s.BM25(method="lucene")
        retriever.index(corpus, show_progress=False)
        postings = _Postings(
            data=retriever.scores["data"],
            indices=retriever.scores["indices"],
            indptr=retriever.scores["indptr"],
        )
        vocabulary = dict(retriever.vocab_dict)
        english = sorted(term for term in vocabulary if _ASCII_WORD.fullmatch(term))
        rows_per_id: dict[str, int] = {}
        for doc_id in doc_ids:
            rows_per_id[doc_id] = rows_per_id.get(doc_id, 0) + 1
        return cls(doc_ids, postings, vocabulary, english, max(rows_per_id.values()))

    def __len__(self) -> int:
        """Number of distinct doc ids."""
        return self._distinct_ids

    def query_terms(self, query: str) -> dict[int, float]:
        """Vocabulary id -> weight for a query; out-of-vocabulary words are typo-corrected."""
        return self._query(query)[0]

    def coverage(self, query: str) -> float:
        """Share of the query's words this index knows (see MIN_COVERAGE); 0.0 for no words."""
        return self._query(query)[1]

    def _query(self, query: str) -> tuple[dict[int, float], float]:
        words = _words(normalise(query))
        weights: dict[int, float] = {}
        known: list[float] = []  # per word: 1 known, TYPO_COVERAGE corrected, 0 unknown, -1 light

        def add(term: str, weight: float) -> None:
            term_id = self._vocabulary.get(term)
            if term_id is not None and weights.get(term_id, 0.0) < weight:
                weights[term_id] = weight

        corrected: list[str] = []
        light = _light_words()
        for word in words:
            if word in light:
                # Shapes the question but is not what it is about: it ranks, lightly, and leaves
                # the coverage test to the words that name the subject ("how do I bake a cake").
                add(word, LIGHT_WEIGHT)
                corrected.append(word)
                known.append(-1.0)
                continue
            if word in self._vocabulary:
                add(word, 1.0)
                corrected.append(word)
                known.append(1.0)
                continue
            fix = self._correct(word)
            if fix is not None:
                add(fix, TYPO_WEIGHT)
                corrected.append(fix)
                known.append(TYPO_COVERAGE)
            else:
                corrected.append(word)
                known.append(0.0)
        for i, word in enumerate(words):
            for part in _word_parts(word):
                if part in self._vocabulary:
                    add(part, SUBWORD_WEIGHT)
                    # 转账记录 is a known question when the articles say 转账 and 记录.
                    known[i] = known[i] or 1.0
        for start, length, concept in _concept_spans(corrected):
            if concept in self._vocabulary:
                add(concept, LIGHT_WEIGHT if concept in LIGHT_CONCEPTS else CONCEPT_WEIGHT)
                # A synonym the articles word differently (口令 for 密码) is a known word; one
                # reached through a typo correction stays as doubtful as the correction.
                for i in range(start, start + length):
                    known[i] = known[i] or 1.0
        known = [value for value in known if value >= 0.0]  # light words (-1.0) do not count
        return weights, (sum(known) / len(known) if known else 0.0)

    def _correct(self, word: str) -> str | None:
        max_distance = _max_typo_distance(word)
        if max_distance == 0 or not _ASCII_WORD.fullmatch(word):
            return None
        match = fuzz_process.extractOne(
            word, self._english_vocabulary, scorer=OSA.distance, score_cutoff=max_distance
        )
        return None if match is None else match[0]

    def search(self, query: str, k: int = 10, *, cutoff: bool = True) -> list[tuple[str, float]]:
        """The k best doc ids for `query`, with BM25 scores, best first; [] if nothing matches.

        With `cutoff` (the default) only relevant ones: [] for a query mostly made of words
        the index does not know, and no hit under RELATIVE_CUTOFF x the best one.
        """
        if k <= 0 or not self._row_ids or not query or not query.strip():
            return []
        weights, coverage = self._query(query)
        if not weights or (cutoff and coverage < MIN_COVERAGE):
            return []
        hits = self._top(self._score(weights), k)
        if cutoff and hits:
            floor = hits[0][1] * RELATIVE_CUTOFF
            hits = [hit for hit in hits if hit[1] >= floor]
        return hits

    def _score(self, weights: dict[int, float]) -> np.ndarray:
        # bm25s' own scorer uses np.add.at, which is ~10x slower than fancy-index +=;
        # the latter is exact here because one term's posting lists each doc once.
        data, indices, indptr = self._postings.data, self._postings.indices, self._postings.indptr
        scores = np.zeros(len(self._row_ids), dtype=np.float32)
        for term_id, weight in weights.items():
            start, end = indptr[term_id], indptr[term_id + 1]
            if weight == 1.0:
                scores[indices[start:end]] += data[start:end]
            else:
                scores[indices[start:end]] += data[start:end] * np.float32(weight)
        return scores

    def _top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        # With at most m rows per doc id, the best k distinct ids are within the top k*m rows.
        rows = min(k * self._max_rows_per_id, len(scores))
        if rows < len(scores):
            candidates = np.argpartition(-scores, rows - 1)[:rows]
        else:
            candidates = np.arange(len(scores))
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        results: list[tuple[str, float]] = []
        seen: set[str] = set()
        for row in candidates.tolist():
            score = float(scores[row])
            if score <= 0.0:
                break
            doc_id = self._row_ids[row]
            if doc_id not in seen:
                seen.add(doc_id)
                results.append((doc_id, score))
                if len(results) == k:
                    break
        return results
