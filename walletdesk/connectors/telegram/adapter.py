"""Telegram bot webhook (https://core.telegram.org/bots/api#setwebhook).

Telegram POSTs an Update as JSON to the webhook and sends the `secret_token` given to
setWebhook in `X-Telegram-Bot-Api-Secret-Token` on every request; anything else is not from
Telegram. `update_id` is unique per bot: the idempotency key. Private chats only: in a private
chat the chat id is the user id, where replies go. Out: sendMessage, sendPhoto (multipart).
A 429 carries `parameters.retry_after`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from django.http import HttpRequest

from walletdesk.connectors.social.base import (
    Adapter,
    BadPayload,
    Inbound,
    Media,
    Outgoing,
    ProviderError,
    Refused,
    same,
)
from walletdesk.connectors.social.http import client, provider_error
from walletdesk.connectors.social.models import SocialAccount

# Telegram caps a message at 4096 characters and a photo caption at 1024.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class TelegramAdapter(Adapter):
    provider: ClassVar[str] = "telegram"
    required_keys: ClassVar[tuple[str, ...]] = ("bot_token", "secret_token")
    optional_keys: ClassVar[tuple[str, ...]] = ("api_base",)
    secret_keys: ClassVar[tuple[str, ...]] = ("bot_token", "secret_token")
    default_api_base: ClassVar[str] = "https://api.telegram.org"
    sends_images: ClassVar[bool] = True

    def parse(self, account: SocialAccount, request: HttpRequest) -> list[Inbound]:
        expected = account.credentials().get("secret_token", "")
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not expected or not same(given, expected):
            raise Refused("bad secret token")
        try:
            update = json.loads(request.body)
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadPayload(f"not an update: {exc}") from exc
        message = update.get("message") or update.get("edited_message")
        if not isinstance(message, dict):
            # Callback queries, channel posts, member updates...: recorded, nothing to answer.
            kind = next((k for k in update if k != "update_id"), "unknown")
            return [Inbound(provider_id=str(update_id), sender_id="", kind="event", event=str(kind))]
        chat = message.get("chat") or {}
        sender = message.get("from") or {}
        if chat.get("type", "private") != "private" or sender.get("is_bot"):
            return [
                Inbound(
                    provider_id=str(update_id),
                    sender_id=str(sender.get("id", "")),
                    kind="event",
                    event="not_private",
                )
            ]
        name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip()
        photos = message.get("photo") or []
        media: tuple[Media, ...] = ()
        if photos:
            # Telegram sends every size of one photo; the largest is the last.
            media = (Media(ref=str(photos[-1].get("file_id", ""))),)
        document = message.get("document") or {}
        if str(document.get("mime_type", "")).startswith("image/"):
            media += (Media(ref=str(document.get("file_id", ""))),)
        text = str(message.get("text") or message.get("caption") or "")
        return [
            Inbound(
                provider_id=str(update_id),
                sender_id=str(sender.get("id") or chat.get("id") or ""),
                reply_to=str(chat.get("id") or ""),
                text=text,
                name=name or str(sender.get("username") or ""),
                language=str(sender.get("language_code") or ""),
                media=media,
                sent_at=datetime.fromtimestamp(int(message.get("date") or 0), tz=UTC)
                if message.get("date")
                else None,
                kind="message" if (text or media) else "event",
                event="" if (text or media) else "empty",
            )
        ]

    def _bot(self, account: SocialAccount) -> str:
        return f"{self.api_base(account)}/bot{account.credentials()['bot_token']}"

    def send(self, account: SocialAccount, recipient: str, out: Outgoing) -> str:
        text = out.text if not out.link else f"{out.text}\n{out.link}"
        with client() as http:
            try:
                if out.image is not None:
                    data, name, content_type = out.image
                    caption = text if len(text) <= CAPTION_LIMIT else ""
                    response = http.post(
                        f"{self._bot(account)}/sendPhoto",
                        data={"chat_id": recipient, **({"caption": caption} if caption else {})},
                        files={"photo": (name, data, content_type)},
                    )
                    result = _result(response)
                    if caption:
                        return str(result.get("message_id", ""))
                sent = ""
                for start in range(0, len(text), TEXT_LIMIT):
                    response = http.post(
                        f"{self._bot(account)}/sendMessage",
                        json={"chat_id": recipient, "text": text[start : start + TEXT_LIMIT]},
                    )
                    sent = sent or str(_result(response).get("message_id", ""))
                return sent
            except httpx.HTTPError as exc:
                raise ProviderError(f"Telegram unreachable: {exc}", retry=True) from exc

    def fetch_media(self, account: SocialAccount, media: Media) -> tuple[bytes, str]:
        with client() as http:
            try:
                found = _result(http.post(f"{self._bot(account)}/getFile", json={"file_id": media.ref}))
                path = str(found.get("file_path") or "")
                if not path:
                    raise ProviderError("Telegram gave no file path", retry=False)
                token = account.credentials()["bot_token"]
                response = http.get(f"{self.api_base(account)}/file/bot{token}/{path}")
            except httpx.HTTPError as exc:
                raise ProviderError(f"Telegram unreachable: {exc}", retry=True) from exc
        if response.status_code != 200:
            raise provider_error("Telegram", response)
        return response.content, path.rsplit("/", 1)[-1]


def _result(response: httpx.Response) -> dict[str, Any]:
    """The `result` of a Bot API answer, or the ProviderError its error means."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("ok"):
        result = body.get("result")
        return result if isinstance(result, dict) else {}
    retry_after = (body.get("parameters") or {}).get("retry_after")
    raise provider_error(
        "Telegram", response, detail=str(body.get("description", "")), retry_after=retry_after
    )
