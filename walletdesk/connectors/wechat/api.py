"""Calls to WeChat's server API with the account's shared access_token.

Every call answers JSON with `errcode` (0 or absent: done). What the codes mean for us:
- 40001, 40014, 42001: the token we hold is invalid or expired (another app server fetched a
  new one, or it timed out): fetch a new one once (`tokens.current(force=True)`, which
  fetches nothing if another process already has) and make the call again;
- -1 (system busy) and 45009 (API quota reached): a later attempt may succeed;
- 45015 (the customer last wrote more than 48 hours ago), 45047 (too many messages since),
  and everything else: permanent; retrying would only be refused again.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from walletdesk.connectors.social import tokens
from walletdesk.connectors.social.base import ProviderError
from walletdesk.connectors.social.http import client, provider_error
from walletdesk.connectors.social.models import SocialAccount

TOKEN_INVALID = {40001, 40014, 42001}
BUSY = {-1, 45009}


def error_of(body: dict[str, Any]) -> ProviderError | None:
    code = body.get("errcode", 0)
    if not code:
        return None
    message = f"WeChat errcode {code}: {str(body.get('errmsg', ''))[:200]}"
    return ProviderError(message, retry=code in BUSY, status=int(code) if isinstance(code, int) else 0)


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise provider_error("WeChat", response, detail=response.text[:300])
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError("WeChat answered something that is not JSON", retry=True) from exc
    return body if isinstance(body, dict) else {}


def fetch_token(account: SocialAccount, base: str) -> tuple[str, int]:
    """A new access_token (cgi-bin/token, client_credential) and its lifetime in seconds."""
    keys = account.credentials()
    params = {"grant_type": "client_credential", "appid": keys["app_id"], "secret": keys["app_secret"]}
    with client() as http:
        try:
            body = _json(http.get(f"{base}/cgi-bin/token", params=params))
        except httpx.HTTPError as exc:
            raise ProviderError(f"WeChat unreachable: {exc}", retry=True) from exc
    failure = error_of(body)
    if failure is not None:
        raise failure
    token = str(body.get("access_token") or "")
    if not token:
        raise ProviderError("WeChat gave no access_token", retry=True)
    return token, int(body.get("expires_in") or 7200)


def token(account: SocialAccount, base: str, *, force: bool = False) -> str:
    return tokens.current(account, lambda: fetch_token(account, base), force=force)


def call(
    account: SocialAccount,
    base: str,
    path: str,
    *,
    payload: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    download: bool = False,
) -> httpx.Response:
    """POST (or GET without payload and files) `path` with the access token; the response,
    once its errcode says done. A token WeChat calls invalid is replaced once, then the call
    is made again."""
    for attempt in range(2):
        query = {**(params or {}), "access_token": token(account, base, force=attempt > 0)}
        with client() as http:
            try:
                if payload is not None:
                    # ensure_ascii=False: WeChat shows \uXXXX escapes literally to the customer.
                    response = http.post(
                        f"{base}{path}",
                        params=query,
                        content=json.dumps(payload, ensure_ascii=False).encode(),
                        headers={"Content-Type": "application/json; charset=utf-8"},
                    )
                elif files is not None:
                    response = http.post(f"{base}{path}", params=query, files=files)
                else:
                    response = http.get(f"{base}{path}", params=query)
            except httpx.HTTPError as exc:
                raise ProviderError(f"WeChat unreachable: {exc}", retry=True) from exc
        if download and response.status_code == 200 and not response.content.lstrip().startswith(b"{"):
            return response  # the file; a failed download is JSON (whatever its Content-Type)
        body = _json(response)
        code = body.get("errcode", 0)
        if code in TOKEN_INVALID and attempt == 0:
            continue
        failure = error_of(body)
        if failure is not None:
            raise failure
        return response
    raise AssertionError("unreachable: the second attempt returns or raises")
