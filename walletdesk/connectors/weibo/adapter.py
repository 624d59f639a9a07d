"""Weibo fan-service platform (粉丝服务平台) direct messages: pushes in, customer-service
replies out.

- GET: URL verification; `signature`, `timestamp`, `nonce`, `echostr`: the echostr goes back
  as is when the signature is Weibo's (push.py), else 403.
- POST: a JSON push with the same signature in its query string (push.py reads it). The
  answer is an empty body: Weibo then sends no passive reply and does not retry.
- Out: `POST /2/messages/reply.json` (the 客服消息 API), form-encoded: access_token,
  type=text, data=the JSON {"text": ...} (URL-encoded by the form encoding, as documented),
  receiver_id, save_sender_box=1 (the reply also shows in the account's own Weibo outbox,
  where the team sees it). A text is at most 300 characters: longer ones go as several.
  Errors are `{"error_code": ..., "error": ...}`; Weibo's own failures and its rate limits
  (10022-10024: IP, user, user-per-API) are retried, the rest are final.
- Weibo accepts these replies for 48 hours after the person's last message; after that the
  composer refuses a reply, with the reason.
- A picture the person sent is downloaded with `/2/mss/msget` (fid = the push's tovfid) from
  upload.api.weibo.com, or from `api_base` when one is set (a stand-in).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ClassVar

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
from walletdesk.connectors.social.http import client
from walletdesk.connectors.social.models import SocialAccount

from . import push

TEXT_LIMIT = 300
REPLY_WINDOW = timedelta(hours=48)
MEDIA_BASE = "https://upload.api.weibo.com"
# Weibo error codes a later attempt may get past: system error, service unavailable, remote
# service error, too busy, and the IP / user / user-per-API rate limits.
RETRY_CODES = {10001, 10002, 10003, 10009, 10022, 10023, 10024}


class WeiboAdapter(Adapter):
    provider: ClassVar[str] = "weibo"
    required_keys: ClassVar[tuple[str, ...]] = ("app_key", "app_secret", "access_token")
    optional_keys: ClassVar[tuple[str, ...]] = ("api_base",)
    secret_keys: ClassVar[tuple[str, ...]] = ("app_secret", "access_token")
    default_api_base: ClassVar[str] = "https://m.api.weibo.com"

    def handshake(self, account: SocialAccount, request: HttpRequest) -> HttpResponse:
        if not push.signed(account.credentials().get("app_secret", ""), request.GET, fresh=False):
            raise Refused("bad signature")
        echostr = request.GET.get("echostr", "")
        if not echostr:
            raise BadPayload("no echostr")
        return HttpResponse(echostr, content_type="text/plain")

    def parse(self, account: SocialAccount, request: HttpRequest) -> list[Inbound]:
        if not push.signed(account.credentials().get("app_secret", ""), request.GET, fresh=True):
            raise Refused("bad, missing or stale signature")
        return [push.read(request.body)]

    def send(self, account: SocialAccount, recipient: str, out: Outgoing) -> str:
        if not recipient.isdigit():
            raise ProviderError(f"not a Weibo uid: {recipient[:40]!r}", retry=False)
        token = account.credentials()["access_token"]
        text = out.text if not out.link else f"{out.text}\n{out.link}"
        sent = ""
        with client() as http:
            for start in range(0, max(len(text), 1), TEXT_LIMIT):
                chunk = text[start : start + TEXT_LIMIT]
                try:
                    response = http.post(
                        f"{self.api_base(account)}/2/messages/reply.json",
                        data={
                            "access_token": token,
                            "type": "text",
                            "data": json.dumps({"text": chunk}, ensure_ascii=False),
                            "receiver_id": recipient,
                            "save_sender_box": "1",
                        },
                    )
                except httpx.HTTPError as exc:
                    raise ProviderError(f"Weibo unreachable: {exc}", retry=True) from exc
                body = _checked(response)
                sent = sent or str(body.get("idstr") or body.get("id") or "")
        return sent

    def fetch_media(self, account: SocialAccount, media: Media) -> tuple[bytes, str]:
        keys = account.credentials()
        base = (keys.get("api_base") or MEDIA_BASE).rstrip("/")
        with client() as http:
            try:
                response = http.get(
                    f"{base}/2/mss/msget", params={"access_token": keys["access_token"], "fid": media.ref}
                )
            except httpx.HTTPError as exc:
                raise ProviderError(f"Weibo unreachable: {exc}", retry=True) from exc
        if response.status_code != 200 or response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            _checked(response)  # raises Weibo's error
            raise ProviderError("Weibo sent no picture", retry=False, status=response.status_code)
        return response.content, f"weibo-{media.ref[:40]}.jpg"

    def reply_window(
        self, account: SocialAccount, last_customer_message_at: datetime | None, sent_since: int
    ) -> Window:
        if last_customer_message_at is None:
            return Window(open=True)
        closes = last_customer_message_at + REPLY_WINDOW
        if timezone.now() < closes:
            return Window(open=True, closes_at=closes)
        return Window(
            open=False,
            closes_at=closes,
            reason=_(
                "Weibo accepts a reply only within 48 hours of the customer's last message. "
                "Ask them to write again, or answer through another channel."
            ),
        )


def _checked(response: httpx.Response) -> dict[str, Any]:
    """The JSON of a successful answer, or the ProviderError Weibo's answer means."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = body.get("error_code")
    if response.status_code == 200 and code in (None, 0, "0"):
        return body
    status = response.status_code
    code_number = int(str(code)) if str(code).isdigit() else None
    retry = status >= 500 or status in (408, 429) or code_number in RETRY_CODES
    header = response.headers.get("Retry-After", "")
    retry_after = float(header) if header.isdigit() else None
    detail = f" error_code {code}: {str(body.get('error', ''))[:200]}" if code is not None else ""
    raise ProviderError(
        f"Weibo answered {status}{detail}", retry=retry, retry_after=retry_after, status=status
    )
