"""WeChat's push signatures and safe-mode (AES) envelope.

Documented formats (微信公众平台 "接入指南" and "消息加解密说明"):
- `signature` = sha1 of the sorted [token, timestamp, nonce] joined, on every GET and POST.
  It does not cover the body: in plain mode a captured URL could carry another body, which is
  why safe mode exists and why a stale timestamp is refused (see adapter.MAX_AGE).
- safe mode: `msg_signature` = sha1 of the sorted [token, timestamp, nonce, Encrypt].
  Encrypt = base64(AES-256-CBC(key, iv=key[:16], PKCS#7 to 32-byte blocks, 16 random bytes +
  4-byte network-order length + xml + app_id)), key = base64decode(encoding_aes_key + "=").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from walletdesk.connectors.social.base import Refused, same

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


def signature(*parts: str) -> str:
    # SHA-1 is WeChat's documented signature, not our choice.
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324


def check(given: str, *parts: str) -> None:
    """Raise Refused unless `given` is the signature of `parts` (constant-time)."""
    if not given or not same(given.lower(), signature(*parts)):
        raise Refused("bad signature")


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("encoding_aes_key is not 43 base64 characters") from exc
    if len(key) != 32:
        raise ValueError("encoding_aes_key is not 43 base64 characters")
    return key


def decrypt(encoding_aes_key: str, app_id: str, encrypted: str) -> bytes:
    """The xml inside a safe-mode `Encrypt` (or echostr). Refused if it does not open with our
    key or was made for another app: the sender does not hold our keys."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused("ciphertext is not base64") from exc
    if not data or len(data) % 16:
        raise Refused("ciphertext length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise Refused("bad padding")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise Refused("too short")
    (length,) = struct.unpack(">I", plain[16:20])
    xml, sender = plain[20 : 20 + length], plain[20 + length :]
    if len(xml) != length or not same(sender, app_id.encode()):
        raise Refused("not for this app")
    return xml
