"""From a provider's push to a ticket message, exactly once, never losing one.

The webhook's half, before it answers: `prepare` screens every value the push carries (text,
name, ids) into one `SocialInbound` row per item; `store` writes them, unique on (account,
provider id), with the task that will process them, in one transaction, which may hold
several pushes (social.intake commits a web process's waiting pushes together; `accept` is
both, for one push). A provider's retry or a replay meets the unique key and is answered
without a second row. Nothing with a secret in it is stored: the row holds the screened text
and the kinds of secret removed.

`process_pending` (the task): turns an account's pending rows into ticket messages in arrival
order, each in its own transaction under the account's row lock, so two workers never open
two tickets for one person. One open ticket per person and account: a message joins that
person's latest ticket on this account unless it is closed (a solved one reopens, as an
email reply does); after a closed one it opens a follow-up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from walletdesk.connectors.social.base import Inbound, Media, ProviderError, adapter_for
from walletdesk.connectors.social.models import SocialAccount, SocialInbound
from walletdesk.core import queue
from walletdesk.core.locks import lock_rows
from walletdesk.tickets import actions, screening
from walletdesk.tickets.actions import DuplicateMessage, NewTicket, StorageUnavailable, TicketError
from walletdesk.tickets.files import CheckedFile, check_file
from walletdesk.tickets.models import Status, Ticket

_PROCESS = "walletdesk.connectors.social.tasks.process_inbound"
_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]*")
MAX_TEXT = 20_000
logger = logging.getLogger(__name__)


# --- the webhook's half -------------------------------------------------------------------------


def _screened(value: str, where: str, secrets: list[tuple[str, str]], *, limit: int) -> str:
    value = (value or "")[: limit * 2]
    result = screening.screen_value(value)
    secrets += [(where, kind) for kind in result.secret_kinds]
    return result.text[:limit]


def _row(account: SocialAccount, item: Inbound, now: Any) -> SocialInbound:
    secrets: list[tuple[str, str]] = []
    text = _screened(item.text, "message", secrets, limit=MAX_TEXT)
    name = _screened(item.name, "name", secrets, limit=120)
    # Ids are kept as the provider sent them (they are keys); one holding a secret is kept
    # only as a placeholder (and can then never thread), which no real provider id does.
    ids = [_screened(v, "id", secrets, limit=200) for v in (item.provider_id, item.sender_id, item.reply_to)]
    return SocialInbound(
        account=account,
        provider_id=ids[0],
        sender_id=ids[1],
        reply_to=ids[2],
        kind="ignored" if item.mine else item.kind,
        # An event name is the provider's word ("subscribe", "CLICK"); anything else is not kept.
        event=item.event[:60] if _EVENT_NAME.fullmatch(item.event[:60]) else "other",
        name=name,
        language=item.language[:20],
        text=text,
        media=[asdict(m) for m in item.media[:10]],
        secrets=[list(s) for s in secrets],
        sent_at=item.sent_at,
        received_at=now,
        state=SocialInbound.State.IGNORED
        if (item.mine or item.kind != "message")
        else SocialInbound.State.PENDING,
    )


def prepare(account: SocialAccount, pushed: Sequence[Inbound]) -> list[SocialInbound]:
    """The rows a push holds, screened; nothing written yet (the request's thread does this)."""
    now = timezone.now()
    return [_row(account, item, now) for item in pushed]


def store(pushes: Sequence[Sequence[SocialInbound]]) -> list[list[SocialInbound]]:
    """Write the prepared rows of one or more pushes in one transaction, and one processing
    task per account with something new; per push, the rows that are new (replays left out)."""
    new: list[list[SocialInbound]] = []
    due: set[int] = set()
    with transaction.atomic():
        for rows in pushes:
            new.append([])
            for row in rows:
                try:
                    with transaction.atomic():
                        row.save(force_insert=True)
                except IntegrityError:
                    continue  # the provider's retry, or a replay: stored already
                new[-1].append(row)
                if row.state == SocialInbound.State.PENDING:
                    due.add(row.account_id)
        for account_id in sorted(due):
            queue.enqueue_named(_PROCESS, account_id=account_id)
    return new


def accept(account: SocialAccount, pushed: Sequence[Inbound]) -> list[SocialInbound]:
    """Store what a push holds; return the rows that are new (replays are left out)."""
    return store([prepare(account, pushed)])[0]


# --- the worker's half --------------------------------------------------------------------------


def process_pending(account_id: int, limit: int = 100) -> str:
    account = SocialAccount.objects.filter(pk=account_id).first()
    if account is None:
        return "no account"
    pending = list(
        SocialInbound.objects.filter(account=account, state=SocialInbound.State.PENDING).order_by("id")[
            :limit
        ]
    )
    # Pictures are fetched before any transaction: a slow provider must not hold the write lock.
    files = {row.pk: _fetch_media(account, row) for row in pending if row.media}
    stored = 0
    for row in pending:
        with transaction.atomic():
            lock_rows(SocialAccount, [account.pk])
            fresh = SocialInbound.objects.select_for_update().filter(pk=row.pk).first()
            if fresh is None or fresh.state != SocialInbound.State.PENDING:
                continue  # another worker took it
            got, notes = files.get(row.pk, ([], []))
            _store(account, fresh, got, notes)
            stored += 1
    more = SocialInbound.objects.filter(account=account, state=SocialInbound.State.PENDING).exists()
    if more and len(pending) == limit:
        queue.enqueue_named(_PROCESS, account_id=account.pk)
    return f"stored={stored}"


def _fetch_media(account: SocialAccount, row: SocialInbound) -> tuple[list[CheckedFile], list[str]]:
    adapter = adapter_for(account.provider)
    files: list[CheckedFile] = []
    notes: list[str] = []
    for item in row.media:
        media = Media(**{k: item.get(k, "") for k in ("ref", "url", "kind")})
        for attempt in range(2):
            try:
                data, filename = adapter.fetch_media(account, media) if adapter else (b"", "")
                files.append(check_file(filename or "picture.jpg", data))
                break
            except ProviderError as exc:
                if exc.retry and attempt == 0:
                    continue
                notes.append(str(exc))
                break
            except Exception as exc:  # a refused file (type, size): said on the ticket, never lost
                notes.append(str(getattr(exc, "message", exc)))
                break
    return files, notes


def thread_of(account: SocialAccount, identity: str) -> Ticket | None:
    """The person's latest ticket on this account, if they have one."""
    return (
        Ticket.objects.filter(
            contact__identities__channel=account.provider, contact__identities__external_id=identity
        )
        .filter(channel=account.provider)
        .order_by("-created_at", "-pk")
        .first()
    )


def identity_of(account: SocialAccount, sender_id: str) -> str:
    # Namespaced by account: two bots' user 42 may be two people (WeChat openids are per account).
    return f"{account.pk}:{sender_id}"


def _body(row: SocialInbound, notes: list[str]) -> str:
    text = row.text.strip()
    language = "zh-hans" if (row.language or row.account.language).startswith("zh") else "en"
    with override(language):
        if not text and row.media:
            text = _("[picture]")
        for note in notes:
            text += "\n" + _("[A picture could not be received from the provider: %(why)s]") % {
                "why": note[:200]
            }
    return text or "-"


def _store(account: SocialAccount, row: SocialInbound, files: list[CheckedFile], notes: list[str]) -> None:
    identity = identity_of(account, row.sender_id)
    body = _body(row, notes)
    secrets = [tuple(s) for s in row.secrets]
    external_id = f"{account.pk}:{row.provider_id}"
    ticket = thread_of(account, identity)
    try:
        if ticket is not None and ticket.status != Status.CLOSED:
            actions.add_customer_message(
                ticket,
                body,
                channel=account.provider,
                external_id=external_id,
                attachments=files,
                secrets=secrets,
            )
        else:
            ticket = actions.create_ticket(
                NewTicket(
                    subject=_subject(body, account),
                    body=body,
                    channel=account.provider,
                    name=row.name,
                    language=_language(row, account),
                    identity=(account.provider, identity),
                    external_id=external_id,
                    attachments=files,
                    team=account.team,
                    follow_up_of=ticket,
                    secrets=secrets,
                )
            )
    except DuplicateMessage as exc:
        ticket = Ticket.objects.filter(reference=exc.extra.get("reference")).first()
    except StorageUnavailable:
        # The disk or bucket is down for now, not the message at fault: the task fails as any
        # outage did before, and the row stays pending for the next run instead of "failed".
        raise
    except TicketError as exc:
        row.state = SocialInbound.State.FAILED
        row.error = f"{exc.code}: {exc.message}"
        row.attempts += 1
        row.save(update_fields=["state", "error", "attempts"])
        logger.warning("social message %s not stored: %s", row.pk, row.error)
        return
    row.state = SocialInbound.State.STORED
    row.ticket = ticket
    row.attempts += 1
    row.save(update_fields=["state", "ticket", "attempts"])


def _language(row: SocialInbound, account: SocialAccount) -> str:
    hint = (row.language or "").lower()
    if hint.startswith("zh"):
        return "zh-hant" if hint in ("zh-tw", "zh-hk", "zh-hant", "zh_tw", "zh_hk") else "zh-hans"
    if hint.startswith("en"):
        return "en"
    if any("\u4e00" <= ch <= "\u9fff" for ch in row.text[:200]):
        return "zh-hans"
    return account.language or "en"


def _subject(body: str, account: SocialAccount) -> str:
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return first[:80] or f"{account.get_provider_display()} message"
