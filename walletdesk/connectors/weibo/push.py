"""Weibo's push signature and what a push (粉丝服务平台 消息推送服务) holds.

The signature (documented under 消息推送服务 / 验证URL有效性): the app secret, `timestamp` and
`nonce` sorted as strings, concatenated, SHA-1, hex. The GET that verifies the URL carries it
with `echostr`; every POST push carries the same three in its query string. It does not cover
the body, so a signed query string seen once (a proxy's access log) would sign any body:
a POST whose timestamp is far from now is refused (`MAX_AGE`), which bounds that to minutes.

A push is JSON: `type` (text, image, voice, position, event, mention...), `sender_id`,
`receiver_id` (int64 uids), `created_at` ("Mon Jul 16 18:09:20 +0800 2012"), `text`, `data`
(image: `vfid`/`tovfid`, the picture's file ids; event: `subtype`, `key`). Weibo documents
no message id ("目前微博消息暂时不支持消息ID") and recommends sender_id + created_at for
dropping its own retries; created_at has one-second resolution, so the key here adds the
type and a hash of the content: a retry (the same push) still meets its key, two different
messages in one second do not collide. An `id` is used as the key if a push carries one.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime
from typing import Any

from walletdesk.connectors.social.base import BadPayload, Inbound, Media, same

# A POST signed longer ago than this (or this far ahead) is refused. Weibo retries a push
# three times within seconds; minutes of clock skew are still accepted.
MAX_AGE = 15 * 60
# Messages a person writes; the rest (follow, menu click, @mention...) are events.
MESSAGES = {"text", "image", "voice", "position"}
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def signature(app_secret: str, timestamp: str, nonce: str) -> str:
    # SHA-1 is Weibo's choice, not ours: the signature is checked, never made to protect anything.
    joined = "".join(sorted([app_secret, timestamp, nonce])).encode()
    return hashlib.sha1(joined, usedforsecurity=False).hexdigest()


def signed(app_secret: str, query: Any, *, fresh: bool) -> bool:
    """Whether the query string's signature is Weibo's (constant-time compare); `fresh`: its
    timestamp must also be within MAX_AGE of now."""
    given, timestamp, nonce = (str(query.get(k, "")) for k in ("signature", "timestamp", "nonce"))
    if not (app_secret and given and timestamp and nonce):
        return False
    if not same(given.lower(), signature(app_secret, timestamp, nonce)):
        return False
    return not fresh or _recent(timestamp)


def _recent(timestamp: str) -> bool:
    if not timestamp.isdigit():
        return False
    value = int(timestamp)
    seconds = value / 1000 if value > 10**11 else value  # Weibo's example is in milliseconds
    return abs(time.time() - seconds) <= MAX_AGE


def read(body: bytes) -> Inbound:
    try:
        push = json.loads(body)
    except ValueError as exc:
        raise BadPayload(f"not JSON: {exc}") from exc
    if not isinstance(push, dict):
        raise BadPayload("not a push object")
    sender = str(push.get("sender_id") or "")
    if not sender.isdigit():
        raise BadPayload("no sender_id")
    kind = str(push.get("type") or "")
    text = str(push.get("text") or "")
    data = _data(push.get("data"))
    created = str(push.get("created_at") or "")
    media: tuple[Media, ...] = ()
    if kind == "image":
        fid = str(data.get("tovfid") or data.get("vfid") or "")
        media = (Media(ref=fid),) if fid else ()
    message = kind in MESSAGES and bool(text or media)
    event = "" if message else _event_name(kind, data)
    return Inbound(
        provider_id=_key(push, sender, created, kind, text, data),
        sender_id=sender,
        text=text if message else "",
        media=media,
        sent_at=_when(created),
        kind="message" if message else "event",
        event=event,
    )


def _data(value: Any) -> dict[str, Any]:
    # Documented as an object; tolerated as a JSON string, as the table calls it "string".
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _event_name(kind: str, data: dict[str, Any]) -> str:
    # The name is stored as is, unscreened: only a plain identifier is kept from a body
    # the signature does not cover.
    name = str(data.get("subtype") or kind or "unknown").lower()
    return name if _EVENT_NAME.fullmatch(name) else "other"


def _key(push: dict[str, Any], sender: str, created: str, kind: str, text: str, data: dict[str, Any]) -> str:
    own = str(push.get("idstr") or push.get("id") or "")
    if own.isdigit():
        return f"id:{own}"
    content = json.dumps([text, data], sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"{sender}:{created}:{kind}:{digest}"[:200]


def _when(created: str) -> datetime | None:
    try:
        return datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None
