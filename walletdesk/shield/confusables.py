"""Characters that look like Latin letters, folded to the letter they imitate.

A compact map for the scripts homograph attacks actually use against Latin brand names
(Cyrillic, Greek, Latin look-alikes, full-width forms via NFKC), plus the ASCII tricks of
typosquats (0/o, 1/l/i, rn/m, vv/w). Two strings with the same skeleton look the same.
"""

import unicodedata

UNICODE_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b", "ɡ": "g", "ӏ": "l", "ո": "n", "ս": "u",
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "Х": "x", "У": "y", "Ѕ": "s", "І": "i", "Ј": "j",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i",
    "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    # Latin look-alikes that NFKD does not decompose
    "ı": "i", "ł": "l", "ɑ": "a", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ǀ": "l",
}  # fmt: skip
_ASCII_LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("nn", "m"))
_ASCII_LOOKALIKE_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "3": "e", "5": "s", "$": "s"})


def fold_unicode(text: str) -> str:
    """Map every look-alike character to the ASCII letter it imitates (lower case)."""
    folded = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isascii():
            folded.append(char.lower())
            continue
        mapped = UNICODE_LOOKALIKES.get(char)
        if mapped is None:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            mapped = base.lower() if base.isascii() and base else char
        folded.append(mapped)
    return "".join(folded)


def visual_skeleton(text: str) -> str:
    """Fold Unicode look-alikes, then the ASCII ones: imt0ken, imtokeη, lmtoken -> lmtoken."""
    skeleton = fold_unicode(text)
    for pair, letter in _ASCII_LOOKALIKE_PAIRS:
        skeleton = skeleton.replace(pair, letter)
    return skeleton.translate(_ASCII_LOOKALIKE_CHARS)


def scripts_of(text: str) -> set[str]:
    """The scripts of the letters in ``text`` (first word of the Unicode name: LATIN, CYRILLIC…)."""
    scripts = set()
    for char in text:
        if char.isalpha():
            scripts.add("LATIN" if char.isascii() else unicodedata.name(char, "UNKNOWN").split()[0])
    return scripts
