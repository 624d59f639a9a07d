"""X's two signatures: the webhook's HMAC-SHA256 (theirs, checked) and OAuth 1.0a (ours, made).

- The CRC answer and `x-twitter-webhooks-signature` are both `sha256=` + base64 of
  HMAC-SHA256 keyed with the app's consumer secret (the CRC over `crc_token`, a push over its
  raw body), as the Account Activity API documents.
- Every API call (the DM we send, the picture we download from ton.twitter.com) carries an
  OAuth 1.0a user-context Authorization header, HMAC-SHA1 signed by `oauthlib`: OAuth's
  percent-encoding and parameter normalisation are easy to get subtly wrong by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from oauthlib.oauth1 import Client

from walletdesk.connectors.social.base import same


def hmac_sha256(consumer_secret: str, message: bytes) -> str:
    digest = hmac.new(consumer_secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def crc_response(consumer_secret: str, crc_token: str) -> str:
    return hmac_sha256(consumer_secret, crc_token.encode())


def body_signed(consumer_secret: str, body: bytes, header: str) -> bool:
    """Whether `header` is X's signature of `body` (constant-time compare)."""
    if not consumer_secret or not header:
        return False
    return same(header.strip(), hmac_sha256(consumer_secret, body))


def oauth_header(keys: dict[str, str], method: str, url: str) -> str:
    """The Authorization header for one request. A JSON body is not part of an OAuth 1.0a
    signature (only a form-encoded one is), so it is never passed here; query parameters in
    `url` are signed."""
    client = Client(
        keys["consumer_key"],
        client_secret=keys["consumer_secret"],
        resource_owner_key=keys["access_token"],
        resource_owner_secret=keys["access_token_secret"],
    )
    _uri, headers, _body = client.sign(url, http_method=method)
    return str(headers["Authorization"])
