"""Regenerate ``zh_common_bigrams.txt`` (developer tool, not imported by the shield).

Why the file exists: the BIP39 Chinese wordlists are the 2,048 most common characters, so an
ordinary Chinese clause is often made only of wordlist characters. A real recovery phrase is
12-24 characters drawn at random, so it almost never contains a common two-character word,
whereas ordinary text is full of them. The shield counts those words to tell the two apart.

Source: the word-frequency dictionary shipped by jieba (MIT licence). From every word of two to
four characters with frequency >= 50 we keep each adjacent character pair whose characters are
both in a BIP39 Chinese list (so "乌鲁木齐" gives 乌鲁, 鲁木, 木齐: place names count as
ordinary text), in simplified and traditional form (via opencc), 60 pairs per line.

Run: .venv/bin/python walletdesk/shield/data/make_zh_bigrams.py
"""

from pathlib import Path

MIN_FREQUENCY = 50
PER_LINE = 60


def main() -> None:
    import jieba
    from mnemonic import Mnemonic
    from opencc import OpenCC

    simplified = set(Mnemonic("chinese_simplified").wordlist)
    traditional = set(Mnemonic("chinese_traditional").wordlist)
    to_traditional = OpenCC("s2t")
    dictionary = Path(jieba.__file__).with_name("dict.txt")
    bigrams: set[str] = set()
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        word, frequency, *_ = line.split()
        if not 2 <= len(word) <= 4 or int(frequency) < MIN_FREQUENCY:
            continue
        for spelling, wordlist in ((word, simplified), (to_traditional.convert(word), traditional)):
            for i in range(len(spelling) - 1):
                pair = spelling[i : i + 2]
                if pair[0] in wordlist and pair[1] in wordlist:
                    bigrams.add(pair)
    ordered = sorted(bigrams)
    lines = ["".join(ordered[i : i + PER_LINE]) for i in range(0, len(ordered), PER_LINE)]
    Path(__file__).with_name("zh_common_bigrams.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
