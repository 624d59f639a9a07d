"""The chat's HTTP side: start a conversation, send a file into it, fetch a file from it.

Contract: docs/chat-protocol.md. Who the customer is: the wallet app vouching for its user
(`X-App-Key` + `X-App-User`, resolved by the in-app connector through `app_user_of`, which
the project's api.py sets: chat never imports a connector), the help centre's session, or
nobody (a guest, whose typed email is only a claim).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.utils import check_csrf
from pydantic import EmailStr, Field

from walletdesk.chat import actions, credentials, frames
from walletdesk.chat.models import Conversation
from walletdesk.core import ratelimit
from walletdesk.core.errors import ErrorOut
from walletdesk.tickets.actions import InvalidInput, NotAllowed, TicketError
from walletdesk.tickets.files import check_file
from walletdesk.tickets.models import Attachment, Channel, Proof

router = Router(tags=["chat"])


@dataclass(frozen=True)
class AppUser:
    identity: str  # the contact's identity for channel "inapp" (namespaced by app)
    vouches_for_email: bool
    app_name: str


# Set by walletdesk.api to the in-app connector's resolver: None without an app key; raises
# (401) for a wrong one.
app_user_of: Callable[[HttpRequest], AppUser | None] | None = None


class ConversationIn(Schema):
    email: EmailStr | None = None
    name: str = Field("", max_length=120)
    language: str | None = Field(None, max_length=10)
    subject: str = Field("", max_length=200)


class AgentOut(Schema):
    name: str


class ConversationOut(Schema):
    reference: str
    ws_url: str
    status: str
    queue_position: int | None
    agent: AgentOut | None
    reply_by: str | None
    language: str
    notice: str


def _language(request: HttpRequest, asked: str | None) -> str:
    value = (asked or getattr(request, "LANGUAGE_CODE", "") or "en").lower().replace("_", "-")
    if value in ("zh-hant", "zh-tw", "zh-hk", "zh-mo"):
        return "zh-hant"
    if value.startswith("zh"):
        return "zh-hans"
    if value.startswith("en") or not asked:
        return "en"
    raise InvalidInput("invalid", "Language must be en, zh-hans or zh-hant.", field="language")


@router.post(
    "/chat/conversations",
    response={
        201: ConversationOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    auth=None,
    url_name="chat_start",
)
def start(request: HttpRequest, payload: ConversationIn) -> Status[ConversationOut]:
    language = _language(request, payload.language)
    email = str(payload.email) if payload.email else None
    app_user = app_user_of(request) if app_user_of is not None else None
    kwargs: dict[str, Any] = {}
    if app_user is not None:
        vouched = bool(email) and app_user.vouches_for_email
        kwargs = {
            "identity": (Channel.INAPP, app_user.identity),
            "email_proof": Proof.APP if vouched else "",
            "proven_by": app_user.app_name if vouched else "",
        }
    elif request.user.is_authenticated:
        # The session cookie speaks for the customer only on the site's own pages.
        if check_csrf(request) is not None:
            raise NotAllowed("csrf", "Send the X-CSRFToken header with a signed-in request.")
        kwargs = {"user": request.user}
    else:
        ratelimit.charge(ratelimit.guest_charge(request, "chat_start", settings.RATE_LIMIT_GUEST_CHAT, email))
    conversation = actions.start_conversation(
        name=payload.name, email=email, language=language, subject=payload.subject, **kwargs
    )
    status = frames.status(conversation)
    return Status(
        201,
        ConversationOut(
            reference=conversation.ticket.reference,
            ws_url=credentials.ws_url(conversation),
            status=status["status"],
            queue_position=status["queue_position"],
            agent=status["agent"],
            reply_by=status["reply_by"],
            language=conversation.language,
            notice=actions.notice(),
        ),
    )


_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


def _conversation(reference: str, token: str) -> Conversation:
    conversation = credentials.conversation_for(reference, token)
    if conversation is None:
        raise TicketError("bad_token", "This chat link is not valid.")
    return conversation


@router.post(
    "/chat/conversations/{reference}/attachments",
    response={201: dict[str, Any], 400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 413: ErrorOut, 429: ErrorOut},
    auth=None,
    url_name="chat_attach",
)
def attach(
    request: HttpRequest,
    reference: str,
    t: str,
    file: File[UploadedFile],
    client_id: Form[str] = "",
    body: Form[str] = "",
) -> Status[dict[str, Any]]:
    conversation = _conversation(reference, t)
    ratelimit.charge(
        ratelimit.guest_charge(request, "chat_attach", settings.RATE_LIMIT_GUEST_CHAT_FILES, None)
    )
    if file.size is not None and file.size > settings.ATTACHMENT_MAX_BYTES:
        raise TicketError("too_large", "This file is too large.", field="file")
    checked = check_file(file.name or "file", file.read(settings.ATTACHMENT_MAX_BYTES + 1))
    client_id = client_id if _CLIENT_ID.match(client_id or "") else f"file-{checked.sha256[:16]}"
    posted = actions.post_customer_message(conversation.pk, client_id, body, attachments=(checked,))
    return Status(201, posted.frame)


@router.get("/chat/files/{token}", auth=None, url_name="chat_file", include_in_schema=False)
def download(request: HttpRequest, token: str) -> FileResponse:
    try:
        data = signing.loads(token, salt=frames.FILE_SALT)
    except signing.BadSignature:
        raise TicketError("not_found", "No such file.") from None
    attachment_id = data.get("a") if isinstance(data, dict) else None
    item = (
        Attachment.objects.filter(pk=attachment_id, message__channel=Channel.CHAT).first()
        if isinstance(attachment_id, int)
        else None
    )
    if item is None:
        raise TicketError("not_found", "No such file.")
    response = FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.filename, content_type=item.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response
