"""A WeChat push (XML) into `Inbound`s.

Provider XML is parsed with defusedxml only, DTDs forbidden: a push with an entity or a
DOCTYPE (XXE, billion laughs) is refused as unreadable before any entity is expanded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from walletdesk.connectors.social.base import BadPayload, Inbound, Media


def xml_fields(body: bytes) -> dict[str, str]:
    """The <xml>'s direct children as text; BadPayload if it is not that."""
    try:
        root: Any = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        # ParseError is a SyntaxError subclass.
        raise BadPayload(f"not readable XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise BadPayload("not a WeChat push")
    return {child.tag: (child.text or "").strip() for child in root}


def inbound(fields: dict[str, str]) -> Inbound:
    kind = fields.get("MsgType", "")
    sender = fields.get("FromUserName", "")
    created = fields.get("CreateTime", "")
    if not sender or not created.isdigit():
        raise BadPayload("no FromUserName or CreateTime")
    sent_at = datetime.fromtimestamp(int(created), tz=UTC)
    if kind == "event":
        # subscribe, unsubscribe, CLICK, VIEW, SCAN, LOCATION... (Receiving_event_pushes.html):
        # recorded, never a ticket message. Events carry no MsgId: WeChat's documented key is FromUserName + CreateTime.
        event = fields.get("Event", "")
        key = fields.get("EventKey", "")
        return Inbound(
            provider_id=f"{sender}:{created}",
            sender_id=sender,
            kind="event",
            event=(f"{event}:{key}" if key else event)[:60],
            sent_at=sent_at,
        )
    msg_id = fields.get("MsgId", "")
    if not msg_id:
        raise BadPayload("a message without MsgId")
    text, media = _content(kind, fields)
    return Inbound(
        provider_id=msg_id,
        sender_id=sender,
        text=text,
        media=media,
        sent_at=sent_at,
        kind="message" if (text or media) else "event",
        event="" if (text or media) else f"empty_{kind}"[:60],
    )


def _content(kind: str, f: dict[str, str]) -> tuple[str, tuple[Media, ...]]:
    if kind == "text":
        return f.get("Content", ""), ()
    if kind == "image":
        return "", (Media(ref=f.get("MediaId", ""), url=f.get("PicUrl", "")),)
    # The rest cannot become a picture or be sent back; the agent reads what it was.
    if kind == "voice":
        return f.get("Recognition", "") or "[voice message]", ()
    if kind in ("video", "shortvideo"):
        return "[video]", ()
    if kind == "location":
        return f"[location] {f.get('Label', '')} ({f.get('Location_X', '')}, {f.get('Location_Y', '')})", ()
    if kind == "link":
        return "\n".join(p for p in (f.get("Title", ""), f.get("Description", ""), f.get("Url", "")) if p), ()
    return "", ()
