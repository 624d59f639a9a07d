"""The credential a chat's `ws_url` carries: the conversation's id and key, signed.

Reading one needs no database; the consumer then checks the key against the conversation's
(so a replaced key revokes every link). Its salt is its own: a tracking link or a survey link
can never be replayed as a chat credential, nor one as the other.
"""

from __future__ import annotations

from urllib.parse import quote

from django.core import signing
from django.utils.crypto import constant_time_compare

from walletdesk.chat.models import Conversation

SALT = "walletdesk.chat.socket"


def make(conversation: Conversation) -> str:
    return signing.dumps({"c": conversation.pk, "k": conversation.key}, salt=SALT, compress=True)


def read(token: str) -> tuple[int, str] | None:
    """(conversation id, key) from a credential, or None if it is not one of ours."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int) or not isinstance(data.get("k"), str):
        return None
    return data["c"], data["k"]


def conversation_for(reference: str, token: str) -> Conversation | None:
    """The conversation this credential opens, if it is the one named `reference` and its key
    is still the conversation's (the socket and the file upload both ask here)."""
    found = read(token)
    if found is None:
        return None
    conversation_id, key = found
    conversation = Conversation.objects.select_related("ticket", "agent").filter(pk=conversation_id).first()
    if conversation is None or conversation.ticket.reference != reference.upper():
        return None
    return conversation if constant_time_compare(conversation.key, key) else None


def ws_url(conversation: Conversation) -> str:
    return f"/ws/chat/{conversation.ticket.reference}/?t={quote(make(conversation), safe='')}"
