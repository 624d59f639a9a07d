"""What WeChat's servers send, built from its documented formats (接入指南, 消息加解密说明),
independently of the code under test: signatures, push XML and the safe-mode ciphertext."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "wdToken2026"
APP_ID = "wx5823bf96d3bd56c7"
APP_SECRET = "0c79e1fa963cd80cc0be99b20a18faeb"
# 43 characters, as WeChat's console generates them.
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"
OUR_ID = "gh_3f0b7e4a8c21"


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def query(token: str = TOKEN, *, timestamp: str | None = None, nonce: str = "1320562132") -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {
        "signature": sign(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": OPENID,
    }


def cdata(value: Any) -> str:
    return f"<![CDATA[{value}]]>"


def xml(**fields: Any) -> bytes:
    """<xml> with the fields in order; strings as CDATA, ints as numbers (WeChat's style)."""
    inner = "".join(f"<{k}>{v if isinstance(v, int) else cdata(v)}</{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode()


def text(content: str, msg_id: int, sender: str = OPENID, created: int | None = None) -> bytes:
    return xml(
        ToUserName=OUR_ID,
        FromUserName=sender,
        CreateTime=created or int(time.time()),
        MsgType="text",
        Content=content,
        MsgId=msg_id,
    )


def image(pic_url: str, media_id: str, msg_id: int, sender: str = OPENID) -> bytes:
    return xml(
        ToUserName=OUR_ID,
        FromUserName=sender,
        CreateTime=int(time.time()),
        MsgType="image",
        PicUrl=pic_url,
        MediaId=media_id,
        MsgId=msg_id,
    )


def event(name: str, created: int, key: str = "", sender: str = OPENID) -> bytes:
    fields: dict[str, Any] = dict(
        ToUserName=OUR_ID, FromUserName=sender, CreateTime=created, MsgType="event", Event=name
    )
    if key:
        fields["EventKey"] = key
    return xml(**fields)


def encrypt(plain: bytes, *, aes_key: str = AES_KEY, app_id: str = APP_ID) -> str:
    key = base64.b64decode(aes_key + "=")
    body = os.urandom(16) + struct.pack(">I", len(plain)) + plain + app_id.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()


def safe(
    plain: bytes, *, token: str = TOKEN, aes_key: str = AES_KEY, app_id: str = APP_ID
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a safe-mode push: the ciphertext in <Encrypt>, msg_signature over it."""
    encrypted = encrypt(plain, aes_key=aes_key, app_id=app_id)
    params = query(token)
    params.update(
        encrypt_type="aes", msg_signature=sign(token, params["timestamp"], params["nonce"], encrypted)
    )
    return params, xml(ToUserName=OUR_ID, Encrypt=encrypted)
