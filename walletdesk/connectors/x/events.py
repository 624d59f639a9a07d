"""An Account Activity push (already verified) as `Inbound`s.

A push is one JSON object: `for_user_id` (the subscribed account: ours), then one list per
kind of activity (`direct_message_events`, `tweet_create_events`, `favorite_events`,
`follow_events`...) and, for DMs, a `users` map (id -> profile) naming the people in them.

- A DM (`type: message_create`) is a message: its `id` is the idempotency key, the sender is
  `message_create.sender_id`, the text `message_data.text` (t.co links put back to the links
  they stand for, so the shield judges the real domain and the agent sees it), a picture is
  `message_data.attachment.media.media_url_https`.
- X sends the DMs our account sends too (an agent's reply comes back): `sender_id ==
  for_user_id` is `mine`, recorded and ignored.
- One webhook URL receives every subscribed account of the app: a push for another account
  than the one whose access token this channel holds (X's access tokens begin with the user
  id) is recorded as an event, never a ticket answered from the wrong account.
- Everything else is an event: no ticket, but stored under a stable id (the event's own id,
  else a hash of it) so a replay is recognised.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from walletdesk.connectors.social.base import Inbound, Media

# Keys of a push that are context, not activity.
_CONTEXT = {"for_user_id", "users", "apps", "user_has_blocked", "is_blocked_by"}
# X's DM media that have a picture at media_url_https (a video's is only its thumbnail).
_PICTURES = {"photo", "animated_gif"}
# An event's name is stored as is (unscreened): only a plain identifier is kept.
_KIND = re.compile(r"[a-z][a-z_]{0,59}")


def own_user_id(access_token: str) -> str:
    """The account's user id, from its OAuth 1.0a access token ("<user id>-<random>")."""
    head, sep, _rest = access_token.partition("-")
    return head if sep and head.isdigit() else ""


def read(payload: dict[str, Any], own_id: str) -> list[Inbound]:
    for_user = str(payload.get("for_user_id") or "")
    other_account = bool(own_id and for_user and for_user != own_id)
    me = for_user or own_id
    users = payload.get("users") if isinstance(payload.get("users"), dict) else {}
    found: list[Inbound] = []
    for key, value in payload.items():
        if key in _CONTEXT or not key.endswith("_events") or not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, dict):
                continue
            if key == "direct_message_events" and item.get("type") == "message_create" and not other_account:
                found.append(_dm(item, me, users or {}))
            else:
                name = key if _KIND.fullmatch(key) else "other_events"
                found.append(_event(name, item, "other_account" if other_account else name))
    return found


def _dm(event: dict[str, Any], me: str, users: dict[str, Any]) -> Inbound:
    create = event.get("message_create") or {}
    sender = str(create.get("sender_id") or "")
    data = create.get("message_data") or {}
    text = str(data.get("text") or "")
    media: tuple[Media, ...] = ()
    attachment = data.get("attachment") or {}
    if attachment.get("type") == "media":
        item = attachment.get("media") or {}
        # X appends the picture's own t.co link to the text: it is the picture, not a message.
        if item.get("url"):
            text = text.replace(str(item["url"]), "")
        if item.get("type", "photo") in _PICTURES and item.get("media_url_https"):
            ref = str(item.get("id_str") or item.get("id") or "")
            media = (Media(ref=ref, url=str(item["media_url_https"])),)
    text = _expanded(text, data.get("entities") or {}).strip()
    found = users.get(sender)
    profile: dict[str, Any] = found if isinstance(found, dict) else {}
    name = str(profile.get("name") or "") or (
        f"@{profile['screen_name']}" if profile.get("screen_name") else ""
    )
    provider_id = str(event.get("id") or "") or _hashed("direct_message_events", event)
    return Inbound(
        provider_id=provider_id,
        sender_id=sender,
        text=text,
        name=name,
        media=media,
        sent_at=_when(event.get("created_timestamp")),
        kind="message" if (text or media) else "event",
        event="" if (text or media) else "empty",
        mine=bool(me) and sender == me,
    )


def _event(kind: str, item: dict[str, Any], event: str) -> Inbound:
    own = item.get("id_str") or item.get("id")
    return Inbound(
        provider_id=f"{kind}:{own}" if own else _hashed(kind, item),
        sender_id=_actor(item),
        kind="event",
        event=event[:60],
    )


def _actor(item: dict[str, Any]) -> str:
    for holder in ("user", "source"):
        who = item.get(holder)
        if isinstance(who, dict) and (who.get("id_str") or who.get("id")):
            return str(who.get("id_str") or who.get("id"))
    create = item.get("message_create")
    return str(create.get("sender_id") or "") if isinstance(create, dict) else ""


def _hashed(kind: str, item: dict[str, Any]) -> str:
    # The same event pushed again serialises the same: a replay meets the unique key.
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}:sha256:{hashlib.sha256(canonical.encode()).hexdigest()[:48]}"


def _expanded(text: str, entities: dict[str, Any]) -> str:
    for link in entities.get("urls") or []:
        if isinstance(link, dict) and link.get("url") and link.get("expanded_url"):
            text = text.replace(str(link["url"]), str(link["expanded_url"]))
    return text


def _when(milliseconds: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
