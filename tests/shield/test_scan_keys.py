import secrets

import pytest

from tests.shield.secret_factory import (
    EXTENDED_VERSIONS,
    extended_private_key,
    keystore_json,
    raw_private_key,
    wif_key,
)
from walletdesk.shield import SecretKind, placeholder_for, scan


@pytest.mark.parametrize(
    "template",
    [
        "my private key is {k}",
        "私钥：{k}",
        "私鑰 {k}",
        "pk: 0x{k}",
        "{k}",
        "here it is\n{k}\nthis is my private key",
        "exported key {k} from metamask",
    ],
)
def test_raw_hex_private_keys(template):
    key = raw_private_key()
    text = template.format(k=key)
    result = scan(text)
    assert result.kinds == {SecretKind.PRIVATE_KEY}, text
    assert key not in result.redacted
    # The placeholder speaks the message's language ("私钥：…" is Chinese).
    assert placeholder_for(SecretKind.PRIVATE_KEY, result.language) in result.redacted
    assert result.language == ("zh" if "私" in text else "en")


@pytest.mark.parametrize(
    "template",
    [
        "tx hash {h}",
        "TxID: {h}",
        "交易哈希：0x{h}",
        "交易哈希 {h}",
        "https://etherscan.io/tx/0x{h}",
        "https://tronscan.org/#/transaction/{h}",
        "my transfer 0x{h} has not arrived",
        "充值的txid是{h}",
        "{h} 这笔转账没到账",
        "block hash 0x{h}",
    ],
)
def test_transaction_hashes_are_left_alone(template):
    text = template.format(h=secrets.token_hex(32))
    assert not scan(text), text


def test_nearest_cue_wins_when_hash_and_key_share_a_message():
    tx, key = secrets.token_hex(32), raw_private_key()
    result = scan(f"I sent tx {tx} and then someone asked for my private key {key}")
    assert tx in result.redacted and key not in result.redacted


def test_low_entropy_hex_is_not_a_secret():
    assert not scan("key " + "0" * 63 + "1")


@pytest.mark.parametrize("compressed", [True, False])
@pytest.mark.parametrize("testnet", [True, False])
def test_wif_keys(compressed, testnet):
    key = wif_key(compressed, testnet)
    assert key[0] in ("KL" if compressed else "5") if not testnet else key[0] in "9c"
    result = scan(f"import this WIF: {key} ok")
    assert result.kinds == {SecretKind.WIF_KEY}
    assert key not in result.redacted


def test_wif_with_broken_checksum_is_ignored():
    key = wif_key(True)
    broken = key[:-1] + ("2" if key[-1] != "2" else "3")
    assert not scan(broken)


@pytest.mark.parametrize("prefix", sorted(EXTENDED_VERSIONS))
def test_extended_private_keys(prefix):
    key = extended_private_key(prefix)
    assert key.startswith(prefix)
    result = scan(f"backup:\n{key}\n")
    assert result.kinds == {SecretKind.EXTENDED_PRIVATE_KEY}
    assert key not in result.redacted


def test_extended_public_key_is_not_a_secret():
    xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8"
    assert not scan(xpub)


@pytest.mark.parametrize("pretty", [True, False])
@pytest.mark.parametrize("capital", [True, False])
def test_keystore_json_is_removed_whole(pretty, capital):
    keystore = keystore_json(pretty, capital)
    text = f"Here is my keystore file:\n{keystore}\nand the password is in my head"
    result = scan(text)
    assert result.kinds == {SecretKind.KEYSTORE}
    assert (
        result.redacted
        == "Here is my keystore file:\n[keystore file removed]\nand the password is in my head"
    )


def test_truncated_keystore_is_removed_to_the_end():
    keystore = keystore_json(pretty=True)[:-40]
    result = scan("keystore: " + keystore)
    assert SecretKind.KEYSTORE in result.kinds
    assert "ciphertext" not in result.redacted
