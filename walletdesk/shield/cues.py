"""The character classes and sizes the detectors and the numpy view must agree on.

`phrases` and `keys` find secrets with them; `textview` builds its per-character tables from
the same values, so its superset filter lets through every place the detectors could match.
They live here, below all three, so the view imports no detector and no detector imports the
view back. Like the rest of the shield, this imports nothing of the project.
"""

# A token is a run of anything but whitespace, ASCII/CJK/full-width punctuation, digits and
# circled numbers ("①abandon" is numbering + word). A negated class is several times faster
# than a letter class with combining-mark alternatives, and keeps decomposed accents and kana
# voicing marks inside their word.
NON_WORD_CLASS = (
    r"\s\x00-\x40\x5b-\x60\x7b-\x7f\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u2460-\u24ff"
    r"\u2776-\u2793\u3000-\u303f\u3251-\u325f\u32b1-\u32bf\ufeff\uff00-\uff20\uff3b-\uff40\uff5b-\uff65"
)
# The characters that end a sentence (a token of its own that no phrase run may cross).
SENTENCE_END_TOKENS = frozenset(".!?。！？")
# Every Chinese phrase cue (助记词, 私钥, …, in `phrases`) holds one of these.
CUE_CHARACTERS = ("词", "詞", "语", "語", "钥", "鑰")
# A WIF (51) in 3 pieces or an extended key (111) in 7 has a piece this long (`keys`).
SPLIT_PIECE_SEED = 16
