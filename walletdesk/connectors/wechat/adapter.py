"""WeChat Official Account (微信公众号) on the social base.

In: the server URL WeChat pushes to (GET: URL verification; POST: messages and events, plain
or safe mode), see signing.py and messages.py. We answer "success" at once: the base stores
the push before answering and makes the ticket in a task, well inside WeChat's 5 seconds.
Out: the customer-service message API (text; image = upload, then send the media id), which
WeChat allows only within 48 hours of the customer's last message, 5 messages at most; and
the template message, outside that window, if the account has a `template_id`.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.connectors.social.base import (
    Adapter,
    BadPayload,
    Inbound,
    Media,
    Outgoing,
    ProviderError,
    Refused,
    Window,
)
from walletdesk.connectors.social.http import client, provider_error
from walletdesk.connectors.social.models import SocialAccount
from walletdesk.connectors.wechat import api, messages, signing

# A plain-mode push whose timestamp is further than this from our clock is refused: its
# signature does not cover the body, so a captured URL must not stay usable for long. WeChat
# sends a push and its retries within seconds; ten minutes leaves room for clock drift.
MAX_SKEW_SECONDS = 600
WINDOW = timedelta(hours=48)
LIMIT = 5
# Hosts WeChat serves a PicUrl from. A plain-mode body is not covered by the signature, so a
# PicUrl elsewhere is never fetched (it would let a forged body make us fetch any URL).
PICTURE_HOSTS = (".qpic.cn", ".qq.com", ".weixin.qq.com")
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


class WeChatAdapter(Adapter):
    provider: ClassVar[str] = "wechat"
    required_keys: ClassVar[tuple[str, ...]] = ("token", "app_id", "app_secret")
    optional_keys: ClassVar[tuple[str, ...]] = ("encoding_aes_key", "template_id", "api_base")
    secret_keys: ClassVar[tuple[str, ...]] = ("token", "app_secret", "encoding_aes_key")
    default_api_base: ClassVar[str] = "https://api.weixin.qq.com"
    sends_images: ClassVar[bool] = True  # uploaded (media/upload), then sent by media_id

    # --- in -------------------------------------------------------------------------------

    def handshake(self, account: SocialAccount, request: HttpRequest) -> HttpResponse:
        keys = account.credentials()
        query = request.GET
        timestamp, nonce, echostr = (query.get(k, "") for k in ("timestamp", "nonce", "echostr"))
        if query.get("msg_signature"):
            # Safe mode: echostr is a ciphertext, signed with it; we answer what it holds.
            signing.check(query["msg_signature"], keys["token"], timestamp, nonce, echostr)
            if query.get("signature"):
                signing.check(query["signature"], keys["token"], timestamp, nonce)
            echostr = self._decrypt(keys, echostr).decode()
        else:
            signing.check(query.get("signature", ""), keys["token"], timestamp, nonce)
        return HttpResponse(echostr, content_type="text/plain")

    def parse(self, account: SocialAccount, request: HttpRequest) -> list[Inbound]:
        keys = account.credentials()
        query = request.GET
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        # Checked before the body is read at all: a forger's XML is never parsed.
        signing.check(query.get("signature", ""), keys["token"], timestamp, nonce)
        fields = messages.xml_fields(request.body)
        if "Encrypt" in fields or query.get("encrypt_type") == "aes":
            encrypted = fields.get("Encrypt", "")
            signing.check(query.get("msg_signature", ""), keys["token"], timestamp, nonce, encrypted)
            fields = messages.xml_fields(self._decrypt(keys, encrypted))
        elif keys.get("encoding_aes_key"):
            # Safe mode configured: a plain body would be one the signature does not cover.
            raise Refused("plain push to a safe-mode account")
        elif not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
            raise Refused("stale timestamp on a plain push")
        return [messages.inbound(fields)]

    def _decrypt(self, keys: dict[str, str], encrypted: str) -> bytes:
        if not keys.get("encoding_aes_key"):
            raise BadPayload("an encrypted push, but this account has no encoding_aes_key")
        try:
            return signing.decrypt(keys["encoding_aes_key"], keys["app_id"], encrypted)
        except ValueError as exc:  # our own key is malformed: an operator's error, not the pusher's
            raise BadPayload(str(exc)) from exc

    def answer(self, account: SocialAccount, request: HttpRequest, inbound: list[Inbound]) -> HttpResponse:
        # "success" (or ""): WeChat expects no passive reply and will not retry or warn the user.
        return HttpResponse("success", content_type="text/plain")

    # --- out ------------------------------------------------------------------------------

    def send(self, account: SocialAccount, recipient: str, out: Outgoing) -> str:
        base = self.api_base(account)
        if out.kind == "template":
            template_id = account.credentials().get("template_id", "")
            if not template_id:
                raise ProviderError("this WeChat account has no template_id", retry=False)
            # The template must have a {{content.DATA}} field (documented in the README).
            payload = {
                "touser": recipient,
                "template_id": template_id,
                "url": out.link,
                "data": {"content": {"value": out.text}},
            }
            return _msgid(api.call(account, base, "/cgi-bin/message/template/send", payload=payload))
        media_id = ""
        if out.image is not None:
            # Uploaded first: a failed upload sends nothing, so its retry repeats nothing.
            data, name, content_type = out.image
            uploaded = api.call(
                account,
                base,
                "/cgi-bin/media/upload",
                params={"type": "image"},
                files={"media": (name, data, content_type)},
            )
            media_id = str(uploaded.json().get("media_id") or "")
            if not media_id:
                raise ProviderError("WeChat gave no media_id for the upload", retry=True)
        custom = "/cgi-bin/message/custom/send"
        sent = ""
        if out.text:
            text = out.text if not out.link else f"{out.text}\n{out.link}"
            payload = {"touser": recipient, "msgtype": "text", "text": {"content": text}}
            sent = _msgid(api.call(account, base, custom, payload=payload))
        if media_id:
            payload = {"touser": recipient, "msgtype": "image", "image": {"media_id": media_id}}
            sent = sent or _msgid(api.call(account, base, custom, payload=payload))
        return sent

    def fetch_media(self, account: SocialAccount, media: Media) -> tuple[bytes, str]:
        base = self.api_base(account)
        if media.ref:
            try:
                got = api.call(
                    account, base, "/cgi-bin/media/get", params={"media_id": media.ref}, download=True
                )
                return got.content, _filename(got)
            except ProviderError as exc:
                if exc.retry or not media.url:
                    raise
        if not media.url or not _picture_host(media.url, base):
            raise ProviderError("no picture WeChat serves", retry=False)
        with client() as http:
            try:
                response = http.get(media.url)
            except httpx.HTTPError as exc:
                raise ProviderError(f"WeChat unreachable: {exc}", retry=True) from exc
        if response.status_code != 200:
            raise provider_error("WeChat", response)
        return response.content, _filename(response)

    def reply_window(
        self, account: SocialAccount, last_customer_message_at: datetime | None, sent_since: int
    ) -> Window:
        alternative = "template" if account.credentials().get("template_id") else ""
        if last_customer_message_at is None:
            return Window(open=False, reason=_("The customer has not written to us on WeChat yet."))
        closes = last_customer_message_at + WINDOW
        remaining = max(LIMIT - sent_since, 0)
        if timezone.now() >= closes:
            return Window(
                open=False,
                reason=_(
                    "The customer last wrote more than 48 hours ago. WeChat lets us reply only within "
                    "48 hours of their last message."
                ),
                closes_at=closes,
                remaining=0,
                alternative=alternative,
                allowed=LIMIT,
            )
        if remaining == 0:
            return Window(
                open=False,
                reason=_(
                    "WeChat allows 5 messages after the customer's last message, and all 5 are used. "
                    "We can write again when the customer does."
                ),
                closes_at=closes,
                remaining=0,
                alternative=alternative,
                allowed=LIMIT,
            )
        return Window(open=True, closes_at=closes, remaining=remaining, allowed=LIMIT)


def _msgid(response: httpx.Response) -> str:
    return str(response.json().get("msgid") or "")


def _filename(response: httpx.Response) -> str:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return "wechat-picture" + EXTENSIONS.get(content_type, ".jpg")


def _picture_host(url: str, base: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.netloc and parts.netloc == urlsplit(base).netloc:
        return True  # the API's own host and port (a stand-in in tests)
    return parts.scheme in ("http", "https") and any(host.endswith(suffix) for suffix in PICTURE_HOSTS)
