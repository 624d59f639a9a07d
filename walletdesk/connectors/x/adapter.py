"""X (Twitter) Account Activity API webhook: DMs in, DM replies out.

- GET with `crc_token` is X's challenge-response check (at registration and then hourly):
  the answer is `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, token))}`.
- Every POST carries `x-twitter-webhooks-signature`, the same HMAC over the raw body: a push
  without it, or with a wrong one, is refused (403, nothing stored). What a push holds is read
  in events.py.
- Out: `POST /2/dm_conversations/with/{participant_id}/messages` with `{"text": ...}`,
  OAuth 1.0a user context (signing.py). A 429 says when the window resets in
  `x-rate-limit-reset` (epoch seconds): the retry waits until then.
- A DM picture is on ton.twitter.com and needs the same OAuth signature to download; only
  that host (or the configured `api_base`'s, a stand-in) is ever sent our signature.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx
from django.http import HttpRequest, HttpResponse, JsonResponse

from walletdesk.connectors.social.base import (
    Adapter,
    BadPayload,
    Inbound,
    Media,
    Outgoing,
    ProviderError,
    Refused,
)
from walletdesk.connectors.social.http import client, provider_error
from walletdesk.connectors.social.models import SocialAccount

from . import events, signing

# X caps a DM at 10,000 characters.
TEXT_LIMIT = 10_000
MEDIA_HOSTS = {("https", "ton.twitter.com")}


class XAdapter(Adapter):
    provider: ClassVar[str] = "x"
    required_keys: ClassVar[tuple[str, ...]] = (
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    )
    optional_keys: ClassVar[tuple[str, ...]] = ("api_base",)
    secret_keys: ClassVar[tuple[str, ...]] = ("consumer_secret", "access_token", "access_token_secret")
    default_api_base: ClassVar[str] = "https://api.x.com"

    def handshake(self, account: SocialAccount, request: HttpRequest) -> HttpResponse:
        token = request.GET.get("crc_token", "")
        secret = account.credentials().get("consumer_secret", "")
        if not token or not secret:
            raise BadPayload("no crc_token")
        return JsonResponse({"response_token": signing.crc_response(secret, token)})

    def parse(self, account: SocialAccount, request: HttpRequest) -> list[Inbound]:
        keys = account.credentials()
        header = request.headers.get("x-twitter-webhooks-signature", "")
        if not signing.body_signed(keys.get("consumer_secret", ""), request.body, header):
            raise Refused("bad or missing x-twitter-webhooks-signature")
        try:
            payload = json.loads(request.body)
        except ValueError as exc:
            raise BadPayload(f"not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise BadPayload("not an Account Activity object")
        return events.read(payload, events.own_user_id(keys.get("access_token", "")))

    def send(self, account: SocialAccount, recipient: str, out: Outgoing) -> str:
        if not recipient.isdigit():
            raise ProviderError(f"not an X user id: {recipient[:40]!r}", retry=False)
        keys = account.credentials()
        url = f"{self.api_base(account)}/2/dm_conversations/with/{quote(recipient, safe='')}/messages"
        text = out.text if not out.link else f"{out.text}\n{out.link}"
        sent = ""
        with client() as http:
            for start in range(0, max(len(text), 1), TEXT_LIMIT):
                try:
                    response = http.post(
                        url,
                        content=json.dumps({"text": text[start : start + TEXT_LIMIT]}, ensure_ascii=False),
                        headers={
                            "Authorization": signing.oauth_header(keys, "POST", url),
                            "Content-Type": "application/json",
                        },
                    )
                except httpx.HTTPError as exc:
                    raise ProviderError(f"X unreachable: {exc}", retry=True) from exc
                if response.status_code not in (200, 201):
                    raise _error(response)
                data = _json(response).get("data") or {}
                sent = sent or str(data.get("dm_event_id") or "")
        return sent

    def fetch_media(self, account: SocialAccount, media: Media) -> tuple[bytes, str]:
        keys = account.credentials()
        parts = urlsplit(media.url)
        allowed = set(MEDIA_HOSTS)
        if keys.get("api_base"):
            base = urlsplit(keys["api_base"])
            allowed.add((base.scheme, base.netloc))
        if (parts.scheme, parts.netloc) not in allowed:
            # Our OAuth signature goes to X's media host only, never to a host a push names.
            raise ProviderError(f"not an X media address: {parts.netloc[:80]}", retry=False)
        with client() as http:
            try:
                response = http.get(
                    media.url, headers={"Authorization": signing.oauth_header(keys, "GET", media.url)}
                )
            except httpx.HTTPError as exc:
                raise ProviderError(f"X unreachable: {exc}", retry=True) from exc
        if response.status_code != 200:
            raise _error(response)
        return response.content, parts.path.rsplit("/", 1)[-1] or "picture.jpg"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(response: httpx.Response) -> ProviderError:
    """X's problem answer as a ProviderError; a 429 waits for `x-rate-limit-reset`."""
    body = _json(response)
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    detail = str(body.get("detail") or body.get("title") or "")
    if not detail and errors and isinstance(errors[0], dict):
        detail = str(errors[0].get("message") or "")
    retry_after: float | None = None
    reset = response.headers.get("x-rate-limit-reset", "")
    if response.status_code == 429 and reset.isdigit():
        retry_after = max(float(reset) - time.time(), 1.0)
    return provider_error("X", response, detail=detail, retry_after=retry_after)
