"""How people and keyboards disguise a secret, as functions of the secret (issue 16).

Shared by the evasion tests and the long-text differential test, so that every form the
scanner must catch is also run through the numpy fast path.
"""

import random

# Letters people (or look-alike attacks) swap for Latin ones.
CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
GREEK = {"o": "ο", "a": "α", "e": "ε", "p": "ρ", "i": "ι", "v": "ν", "t": "τ"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (a Chinese IME in full-width mode)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def full_width_digits(number: int) -> str:
    return full_width(str(number))


def swap(word: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in word)


def inside(word: str, char: str, at: int = 2) -> str:
    at = min(at, len(word) - 1) if len(word) > 1 else 1
    return word[:at] + char + word[at:]


def phrase_evasions(words: list[str]) -> dict[str, str]:
    """Each way of writing a (Latin-script) phrase that got through before issue 16."""
    return {
        "full-width letters": " ".join(map(full_width, words)),
        "full-width letters, ideographic spaces": "\u3000".join(map(full_width, words)),
        "full-width digits numbering": " ".join(
            f"{full_width_digits(i)}. {w}" for i, w in enumerate(words, 1)
        ),
        "full-width digits and stop": " ".join(
            f"{full_width_digits(i)}．{w}" for i, w in enumerate(words, 1)
        ),
        **{f"U+{ord(char):04X} inside words": " ".join(inside(w, char) for w in words) for char in INVISIBLE},
        "zero-width space between words": "\u200b".join(words),
        "word joiner between words": "\u2060".join(words),
        "Cyrillic look-alikes": " ".join(swap(w, CYRILLIC) for w in words),
        "Greek look-alikes": " ".join(swap(w, GREEK) for w in words),
        "dots": ".".join(words),
        "dots, capitalised": ".".join(w.capitalize() for w in words),
        "full-width and zero-width": " ".join(inside(full_width(w), "\u200b", 1) for w in words),
    }


# Separators that already worked before issue 16: kept as regression cases.
PLAIN_SEPARATORS = {"commas": ",", "slashes": "/", "hyphens": "-", "underscores": "_", "pipes": "|"}


def hex_key_evasions(key: str) -> dict[str, str]:
    blocks = [key[i : i + 8] for i in range(0, 64, 8)]
    return {
        "blocks of 8": " ".join(blocks),
        "blocks of 8 over two lines": " ".join(blocks[:4]) + "\n" + " ".join(blocks[4:]),
        "0x and blocks of 8": "0x" + " ".join(blocks),
        "two lines, 32 + 32": key[:32] + "\n" + key[32:],
        "two lines, 40 + 24": key[:40] + "\r\n" + key[40:],
        "zero-width space inside": key[:20] + "\u200b" + key[20:],
        "full-width": full_width(key),
    }


def base58_key_evasions(key: str, rng: random.Random) -> dict[str, str]:
    cut = rng.randrange(17, len(key) - 17)
    third = len(key) // 3
    return {
        "split by a space": f"{key[:cut]} {key[cut:]}",
        "split by a new line": f"{key[:cut]}\n{key[cut:]}",
        "three pieces": f"{key[:third]} {key[third : 2 * third]}\n{key[2 * third :]}",
        "zero-width space inside": f"{key[:cut]}\u200b{key[cut:]}",
    }
