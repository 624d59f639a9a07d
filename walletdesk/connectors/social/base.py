"""The one interface every social channel implements (WeChat, Weibo, X, Telegram).

A provider package (`walletdesk/connectors/<provider>/`) subclasses `Adapter` and registers an
instance from its AppConfig.ready() with `register(adapter)`. This package never imports a
provider: it finds them here, as tickets finds senders in `tickets.channels`.

What an adapter does, and nothing more:
- `handshake`: answer the provider's GET (WeChat/Weibo `echostr`, X's CRC) after checking it.
- `parse`: check the POST's signature (in constant time) and turn the body into `Inbound`s.
  No database, no network: the view stores what it returns and answers at once.
- `answer`: the HTTP answer the provider expects for a stored push ("success", "", JSON).
- `send`: one message out through the provider's API; raises `ProviderError` saying whether
  a retry may succeed and when.
- `fetch_media`: download a picture the customer sent (run by the worker, not the webhook).
- `reply_window`: whether the provider still lets us write to this person, and why not.

Everything else (storing, exactly-once, one ticket per person, the shield, retries, the desk)
is the social package's, the same for every provider.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from walletdesk.connectors.social.models import SocialAccount


class Refused(Exception):
    """The request is not from the provider (bad or missing signature): 403, nothing stored."""


class BadPayload(Exception):
    """Signed, but not something we can read: 400, nothing stored (the provider's retry will
    not do better, and a 5xx would make it hammer us)."""


class ProviderError(Exception):
    """A send or download failed. `retry`: a later attempt may succeed (5xx, 429, network);
    `retry_after`: seconds the provider asked us to wait (429), if it said."""

    def __init__(self, message: str, *, retry: bool, retry_after: float | None = None, status: int = 0):
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after
        self.status = status


@dataclass(frozen=True)
class Media:
    """A picture the customer sent: the provider's id for it, and a direct URL if it gave one."""

    ref: str
    url: str = ""
    kind: str = "image"


@dataclass(frozen=True)
class Inbound:
    """One thing a provider pushed, already verified.

    `provider_id`: the provider's id for it, the idempotency key (unique per account): WeChat's
    MsgId (FromUserName+CreateTime for events), Telegram's update_id, X's event id, Weibo's
    message id. `sender_id`: who sent it (openid, Telegram user id, X user id, Weibo uid).
    `reply_to`: where replies go when that is not the sender (a Telegram chat id).
    `kind`: "message" (text and/or media: becomes a ticket message) or "event" (subscribe,
    unsubscribe, menu click...: recorded, no ticket). `mine`: our own account's message echoed
    back (X sends our DMs to the webhook too): recorded as ignored.
    """

    provider_id: str
    sender_id: str
    text: str = ""
    name: str = ""
    language: str = ""
    media: tuple[Media, ...] = ()
    kind: str = "message"
    event: str = ""
    sent_at: datetime | None = None
    reply_to: str = ""
    mine: bool = False


@dataclass(frozen=True)
class Outgoing:
    """One message out. `text` always; `image` (bytes, file name, content type) when the agent
    attached a picture and the provider can send one; `kind`: reply, created, solved, csat,
    template (WeChat's template message, outside the 48-hour window)."""

    text: str
    kind: str = "reply"
    image: tuple[bytes, str, str] | None = None
    link: str = ""  # a URL the message is about (the template message's target)


@dataclass(frozen=True)
class Window:
    """Whether the provider still accepts a free-form message to this person now.

    `open`: it does. `reason`: why not (shown in the composer and the API's refusal).
    `closes_at`, `remaining`, `allowed`: when it closes, how many messages are left and how
    many it allows (WeChat: 48 hours after the customer's last message, 5 messages). `alternative`: what may still be sent
    ("template": WeChat's template message)."""

    open: bool
    reason: str = ""
    closes_at: datetime | None = None
    remaining: int | None = None
    alternative: str = ""
    allowed: int | None = None  # how many the provider allows in a window (WeChat: 5)


@dataclass
class Adapter:
    """Subclass per provider; see the module docstring. Credentials come from
    `account.credentials()` (a dict of the keys below, decrypted)."""

    provider: ClassVar[str]
    required_keys: ClassVar[tuple[str, ...]]
    optional_keys: ClassVar[tuple[str, ...]] = ()
    default_api_base: ClassVar[str]
    # Which keys are secret (never shown back in the admin or by `connect`).
    secret_keys: ClassVar[tuple[str, ...]] = ()
    # Whether `send` delivers an agent's picture (Outgoing.image); if not, the text names it.
    sends_images: ClassVar[bool] = False
    options: dict[str, Any] = field(default_factory=dict)

    def handshake(self, account: SocialAccount, request: HttpRequest) -> HttpResponse:
        raise Refused("this provider has no GET handshake")

    def parse(self, account: SocialAccount, request: HttpRequest) -> list[Inbound]:
        raise NotImplementedError

    def answer(self, account: SocialAccount, request: HttpRequest, inbound: list[Inbound]) -> HttpResponse:
        return HttpResponse("", content_type="text/plain")

    def send(self, account: SocialAccount, recipient: str, out: Outgoing) -> str:
        """Send; return the provider's id of the sent message ("" if it gives none)."""
        raise NotImplementedError

    def fetch_media(self, account: SocialAccount, media: Media) -> tuple[bytes, str]:
        """(bytes, file name) of a picture the customer sent."""
        raise ProviderError("this provider sends no media", retry=False)

    def reply_window(
        self, account: SocialAccount, last_customer_message_at: datetime | None, sent_since: int
    ) -> Window:
        """`sent_since`: messages we sent this person since their last message."""
        return Window(open=True)

    def api_base(self, account: SocialAccount) -> str:
        return (account.credentials().get("api_base") or self.default_api_base).rstrip("/")


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison of a signature with the expected one."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


_adapters: dict[str, Adapter] = {}


def register(adapter: Adapter) -> None:
    _adapters[adapter.provider] = adapter


def adapter_for(provider: str) -> Adapter | None:
    return _adapters.get(provider)


def providers() -> list[str]:
    return sorted(_adapters)
