"""Real secrets of every kind the shield must catch, generated fresh (never real funds)."""

import json
import random
import secrets

from mnemonic import Mnemonic
from shamir_mnemonic import generate_mnemonics

from walletdesk.shield.checksums import base58check_encode

PHRASE_WORDS = (12, 15, 18, 21, 24)
EXTENDED_VERSIONS = {
    "xprv": bytes.fromhex("0488ade4"),
    "yprv": bytes.fromhex("049d7878"),
    "zprv": bytes.fromhex("04b2430c"),
    "tprv": bytes.fromhex("04358394"),
    "uprv": bytes.fromhex("044a4e28"),
    "vprv": bytes.fromhex("045f18bc"),
}


def phrase_words(language: str, words: int, rng: random.Random) -> list[str]:
    entropy = rng.randbytes(words * 4 // 3)
    return Mnemonic(language).to_mnemonic(entropy).replace("\u3000", " ").split(" ")


def layouts(words: list[str], chinese: bool) -> dict[str, str]:
    """The ways people actually write a phrase down."""
    shapes = {
        "spaces": " ".join(words),
        "lines": "\n".join(words),
        "numbered_dot": " ".join(f"{i}. {w}" for i, w in enumerate(words, 1)),
        "numbered_lines": "\n".join(f"{i}.{w}" for i, w in enumerate(words, 1)),
        "numbered_ideographic": " ".join(f"{i}、{w}" for i, w in enumerate(words, 1)),
        "numbered_circled": " ".join(f"{chr(0x245F + i)}{w}" for i, w in enumerate(words, 1)),
        "numbered_paren": "\n".join(f"{i}) {w}" for i, w in enumerate(words, 1)),
        "commas": ", ".join(words),
        "dashes": "-".join(words),
        "sentence": f"hi support, my wallet words are {' '.join(words)} can you restore it?",
        "sentence_zh": f"你好，我的助记词是 {' '.join(words)} 请帮我恢复钱包",
    }
    if chinese:
        shapes["compact"] = "".join(words)
        shapes["compact_sentence"] = f"你好，我的助记词：{''.join(words)}，请帮我看看"
        shapes["compact_glued"] = f"我的助记词是{''.join(words)}请帮我看看"
        shapes["grid_rows"] = "\n".join("".join(words[i : i + 3]) for i in range(0, len(words), 3))
    else:
        shapes["mixed_case"] = " ".join(w.upper() if i % 3 == 0 else w.title() for i, w in enumerate(words))
    return shapes


def raw_private_key() -> str:
    return secrets.token_hex(32)


def wif_key(compressed: bool, testnet: bool = False) -> str:
    payload = (b"\xef" if testnet else b"\x80") + secrets.token_bytes(32) + (b"\x01" if compressed else b"")
    return base58check_encode(payload)


def extended_private_key(prefix: str) -> str:
    body = bytes([0]) + bytes(4) + bytes(4) + secrets.token_bytes(32) + b"\x00" + secrets.token_bytes(32)
    return base58check_encode(EXTENDED_VERSIONS[prefix] + body)


def keystore_json(pretty: bool = False, capital_crypto: bool = False) -> str:
    document = {
        "address": secrets.token_hex(20),
        "Crypto" if capital_crypto else "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": secrets.token_hex(16)},
            "ciphertext": secrets.token_hex(32),
            "kdf": "scrypt",
            "kdfparams": {"dklen": 32, "n": 262144, "p": 1, "r": 8, "salt": secrets.token_hex(32)},
            "mac": secrets.token_hex(32),
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3,
    }
    return json.dumps(document, indent=2 if pretty else None)


def slip39_share(strength_bits: int) -> str:
    master = secrets.token_bytes(strength_bits // 8)
    return generate_mnemonics(1, [(1, 1)], master)[0][0]
