"""Outbound mail: acknowledgements, agent replies and notices, threaded and retried.

`send_notification` is the email adapter registered in `tickets.channels`. Every mail gets a
Message-ID we record (`OutboundEmail`), so the customer's reply threads back by In-Reply-To.
Automatic mail carries Auto-Submitted (RFC 3834) and is rate-limited per address, so two
auto-responders cannot ping-pong. A failed send is retried with backoff by re-enqueueing the
task with `run_after`; after the last attempt the ticket gets a note and a flag.

Crash safety. SMTP has no idempotency: the server accepts a mail when it has read the final
dot, and a sender that dies before it records that cannot know whether it did. So each
attempt is recorded before the send (state "sending" with a lease, `EMAIL_SENDING_LEASE_SECONDS`)
and its result right after the server's answer: a single mail by its own UPDATE, a batch's
mails by one line each in the sent journal (journal.py) and one UPDATE per chunk of
`EMAIL_SEND_CHUNK`. A worker killed mid-batch then leaves: mails recorded "sent" or journaled
(never sent again: the sweep reads the journals first), mails not yet tried "queued" (sent by
the re-run task: the worker's lease hands it back), and the rest of the chunk on the wire
"sending", sent again once its lease expires (`recover_stalled`, run by the worker's sweep),
each with its own Message-ID. "Without a second copy" therefore means: no mail the server was
known to accept is sent again; the only possible duplicate is the one mail per dead worker that
the server had accepted in the instant between its reply and our journal line, and it carries
the same Message-ID as the first, so mail systems that collapse duplicates by Message-ID (and
any reader) see one message. The alternative, marking sent before sending, loses that mail
instead; a lost acknowledgement is the worse failure for a customer whose wallet was just
emptied.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.tasks import default_task_backend
from django.utils import timezone

from walletdesk.core import mail, metrics, queue
from walletdesk.core.cache import ProcessCache
from walletdesk.core.hant import to_hant
from walletdesk.core.retry import backoff as backoff_from
from walletdesk.tickets import actions
from walletdesk.tickets.models import AuthorRole, Channel, Message, Ticket

from . import bodies, journal
from .models import Mailbox, OutboundEmail

_DELIVER_OUTBOUND = "walletdesk.connectors.email.tasks.deliver_outbound"

logger = logging.getLogger(__name__)

AUTOMATIC_KINDS = {"created": "auto-replied", "solved": "auto-generated"}


def _domain() -> str:
    configured = getattr(settings, "EMAIL_MESSAGE_ID_DOMAIN", "")
    if configured:
        return str(configured)
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "walletdesk.localhost"


def new_message_id() -> str:
    return make_msgid("wd", domain=_domain()).strip("<>")


def _mailbox_addresses() -> frozenset[str]:
    return frozenset(a.lower() for a in Mailbox.objects.exclude(address="").values_list("address", flat=True))


# Every acknowledgement asks; mailboxes change rarely (a save or delete forgets it, see apps).
_mailboxes = ProcessCache(_mailbox_addresses)
forget_mailboxes = _mailboxes.forget


def _our_addresses() -> set[str]:
    return {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower(), *_mailboxes.get()}


def rate_limited(address: str) -> str | None:
    """Why automatic mail to this address must not go out now, or None."""
    return _limit_reason(address, _recent_automatic([address]).get(address, 0))


_COUNTED_STATES = ("queued", "sending", "retry", "sent")


def _recent_automatic(addresses: Iterable[str]) -> dict[str, int]:
    """Automatic mails recorded to each address in the last hour (not the suppressed ones)."""
    since = timezone.now() - timedelta(hours=1)
    return dict(
        OutboundEmail.objects.filter(
            to_address__in=set(addresses), automatic=True, created_at__gte=since, state__in=_COUNTED_STATES
        )
        .values("to_address")
        .annotate(n=Count("id"))
        .values_list("to_address", "n")
    )


def _limit_reason(address: str, sent: int) -> str | None:
    if address.lower() in _our_addresses():
        return "our own address (mail loop)"
    limit = settings.EMAIL_AUTO_REPLY_LIMIT_PER_HOUR
    if sent >= limit:
        return f"{sent} automatic mails to this address in the last hour (limit {limit})"
    return None


def thread_headers(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References): the customer's last Message-ID, and the recent thread."""
    return thread_headers_of([ticket.pk])[ticket.pk]


def thread_headers_of(ticket_ids: Sequence[int]) -> dict[int, tuple[str, list[str]]]:
    """`thread_headers` of several tickets in one round trip (every acknowledgement asks).

    Per ticket, the ten latest of each side: the customer's mails (not those keyed by a content
    hash, which have no Message-ID) and ours that went out.
    """
    message, outbound = Message._meta.db_table, OutboundEmail._meta.db_table
    ids = list(dict.fromkeys(ticket_ids))
    marks = ", ".join(["%s"] * len(ids))
    latest = "ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY created_at DESC, id DESC)"
    # Table names from the models; every value is a bound parameter.
    sql = (
        f"SELECT ticket_id, mid, created_at, id, ours FROM (SELECT ticket_id, external_id AS mid,"  # noqa: S608
        f" created_at, id, 0 AS ours, {latest} AS n FROM {message} WHERE ticket_id IN ({marks})"
        " AND channel = %s AND author_role = %s AND external_id IS NOT NULL"
        " AND external_id NOT LIKE 'sha256%%') received WHERE n <= 10"
        " UNION ALL "
        f"SELECT ticket_id, mid, created_at, id, ours FROM (SELECT ticket_id, message_id_header AS mid,"
        f" created_at, id, 1 AS ours, {latest} AS n FROM {outbound} WHERE ticket_id IN ({marks})"
        " AND state = 'sent') sent WHERE n <= 10"
    )
    found: dict[int, list[tuple[datetime, int, int, str]]] = {pk: [] for pk in ids}
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*ids, Channel.EMAIL, AuthorRole.CUSTOMER, *ids])
            for ticket_id, mid, at, pk, ours in cursor.fetchall():
                found[ticket_id].append((_aware(at), pk, ours, str(mid)))
    headers = {}
    for ticket_id, rows in found.items():
        received = sorted((f for f in rows if not f[2]), reverse=True)
        thread = sorted((at, mid) for at, _pk, _ours, mid in rows)
        headers[ticket_id] = (received[0][3] if received else "", [mid for _, mid in thread][-20:])
    return headers


def _aware(value: datetime | str) -> datetime:
    """A timestamp from a raw query: SQLite hands back text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def _language(ticket: Ticket) -> str:
    # A zh-hant ticket (tickets.language: Traditional text) is answered with the zh-hant
    # templates, which scripts/make_zh_hant generates from the zh-hans ones.
    return mail.language(ticket.language)


# Our words in each subject; {ref} and {subject} are filled in after conversion, so the
# customer's own subject is never rewritten into the other script.
_SUBJECTS = {
    "en": {"created": "[{ref}] We received your request: {subject}", "solved": "[{ref}] Your request is solved",
           "reply": "[{ref}] Re: {subject}"},
    "zh-hans": {"created": "[{ref}] 我们已收到您的请求：{subject}", "solved": "[{ref}] 您的请求已解决",
                "reply": "[{ref}] 回复：{subject}"},
}  # fmt: skip


def render_subject(ticket: Ticket, kind: str) -> str:
    language = _language(ticket)
    # zh-hant from the Simplified words (converted on first use: OpenCC loads in ~0.2 s).
    words = (
        {k: to_hant(t) for k, t in _SUBJECTS["zh-hans"].items()}
        if language == "zh-hant"
        else _SUBJECTS[language]
    )
    text = words.get(kind, words["reply"]).format(ref=ticket.reference, subject=ticket.subject)
    return " ".join(text.split())[:250]


def render_bodies(ticket: Ticket, kind: str, message: Message | None) -> tuple[str, str]:
    # Rendered once per shape and filled in per mail (bodies.py): the template engine was
    # about half of an acknowledgement's worker CPU.
    return bodies.render_bodies(ticket, kind, message, _language(ticket))


def _dedupe_key(ticket: Ticket, kind: str, message: Message | None) -> str | None:
    """What makes a notification task idempotent: a re-run (its worker died) sends nothing twice.

    A ticket can be solved, reopened and solved again: each solve is its own notice, named by
    the moment it was solved.
    """
    if kind == "created":
        return f"created:{ticket.pk}"
    if kind == "reply":
        return f"reply:{message.pk}" if message else None
    if kind == "solved" and ticket.solved_at is not None:
        return f"solved:{ticket.pk}:{ticket.solved_at.timestamp():.6f}"
    return None


def _sending_lease() -> datetime:
    return timezone.now() + timedelta(seconds=settings.EMAIL_SENDING_LEASE_SECONDS)


def _record(
    ticket: Ticket,
    kind: str,
    message: Message | None,
    to: str,
    headers: tuple[str, list[str]],
    why_not: str | None,
    *,
    queued: bool = False,
) -> OutboundEmail:
    """The row of a mail about to be sent: recorded already claimed for its first attempt (what
    deliver()'s claim does), since this task is the only one that knows it yet. A batch's rows
    are recorded "queued" instead and claimed one by one as each is sent (`_claim_next`)."""
    in_reply_to, references = headers
    if why_not:
        state, attempts, lease_until = OutboundEmail.State.SUPPRESSED, 0, None
    elif queued:
        state, attempts, lease_until = OutboundEmail.State.QUEUED, 0, None
    else:
        state, attempts, lease_until = OutboundEmail.State.SENDING, 1, _sending_lease()
    return OutboundEmail(
        ticket=ticket,
        message=message,
        kind=kind,
        automatic=kind in AUTOMATIC_KINDS,
        dedupe_key=_dedupe_key(ticket, kind, message),
        message_id_header=new_message_id(),
        in_reply_to=in_reply_to,
        references=" ".join(references),
        to_address=to,
        subject=render_subject(ticket, kind),
        state=state,
        attempts=attempts,
        lease_until=lease_until,
        last_error=why_not or "",
    )


def _guard() -> AbstractContextManager[Any]:
    # One INSERT needs no transaction of its own: in autocommit mode it is one, and a clash
    # leaves nothing to roll back (on PostgreSQL BEGIN and COMMIT are two more round trips per
    # acknowledgement). Inside a caller's transaction a savepoint keeps that transaction usable.
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def send_notification(ticket: Ticket, kind: str, message: Message | None) -> str:
    """The `tickets.channels` sender for email: record the mail, then try to send it now."""
    to = (ticket.contact.email or "").strip()
    if not to:
        return "skipped"
    why_not = rate_limited(to) if kind in AUTOMATIC_KINDS else None
    row = _record(ticket, kind, message, to, thread_headers(ticket), why_not)
    try:
        with _guard():
            row.save(force_insert=True)  # a task run twice meets the unique dedupe key
    except IntegrityError:
        # Recorded by an earlier run. One whose worker died before trying it left it queued:
        # send it now (the claim is conditional, so a live sender and this one cannot both).
        # One left "sending" is the stalled-mail sweep's (after its lease), not ours.
        if row.dedupe_key is None:
            return "already_sent"
        earlier = OutboundEmail.objects.filter(dedupe_key=row.dedupe_key, state=OutboundEmail.State.QUEUED)
        pk = earlier.values_list("pk", flat=True).first()
        return deliver(pk, states=("queued",)) if pk is not None else "already_sent"
    if why_not:
        logger.info("not sending %s to %s: %s", kind, to, why_not)
        return "suppressed"
    return _attempt(row, ticket, message)


def send_notifications(tickets: Sequence[Ticket], kind: str) -> dict[int, str]:
    """The batch sender (`tickets.channels`): `send_notification` for the tickets of one write
    batch, without a message (acknowledgements, solved notices).

    The rate limit, the thread headers and the records take one query each for the batch, the
    sent state one update: four round trips per batch, not per mail (two of them commits on
    PostgreSQL). Each mail is still built and sent on its own, over one mail connection, and
    one that fails is retried on its own. If the records clash (the task ran before), each
    ticket goes through `send_notification`, whose dedupe key answers it.
    """
    outcomes: dict[int, str] = {}
    todo: list[tuple[Ticket, str]] = []
    for ticket in tickets:
        to = (ticket.contact.email or "").strip()
        if to:
            todo.append((ticket, to))
        else:
            outcomes[ticket.pk] = "skipped"
    if not todo:
        return outcomes
    _record_leftovers()
    automatic = kind in AUTOMATIC_KINDS
    counts = _recent_automatic(to for _ticket, to in todo) if automatic else {}
    headers = thread_headers_of([ticket.pk for ticket, _to in todo])
    records: list[OutboundEmail] = []
    for ticket, to in todo:
        why_not = _limit_reason(to, counts.get(to, 0)) if automatic else None
        if automatic and not why_not:
            counts[to] = counts.get(to, 0) + 1  # two tickets of one customer in this batch
        records.append(_record(ticket, kind, None, to, headers[ticket.pk], why_not, queued=True))
    try:
        with _guard():
            OutboundEmail.objects.bulk_create(records)
    except IntegrityError:
        return outcomes | {ticket.pk: send_notification(ticket, kind, None) for ticket, _to in todo}
    # In chunks: one UPDATE marks the previous chunk sent and claims the next ("sending", with a
    # lease), so a worker killed mid-chunk leaves at most that chunk "sending" and the rest
    # "queued" (sent once by the re-run). Of the chunk on the wire, each mail the server
    # accepted is in the sent journal (one line, no round trip), which the stalled-mail sweep
    # reads before it sends again: only the mail whose reply we never read can arrive twice.
    # One UPDATE per mail cost ~1 ms of worker CPU and one commit per acknowledgement.
    pending: list[tuple[Ticket, OutboundEmail]] = []
    for (ticket, to), row in zip(todo, records, strict=True):
        if row.state == OutboundEmail.State.SUPPRESSED:
            logger.info("not sending %s to %s: %s", kind, to, row.last_error)
            outcomes[ticket.pk] = "suppressed"
        else:
            pending.append((ticket, row))
    size = max(1, settings.EMAIL_SEND_CHUNK)
    just_sent: list[int] = []  # marked "sent" by the next chunk's claim, or at the end
    with _one_connection() as mailer:
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            claimed = _claim_chunk(just_sent, [row for _ticket, row in chunk])
            _settled(just_sent)
            just_sent = []
            for ticket, row in chunk:
                if row.pk not in claimed:  # the stalled-mail sweep took it (past its lease)
                    outcomes[ticket.pk] = "not_claimed"
                    continue
                error = _send(row, ticket, None, mailer)
                if error is None:
                    journal.writer.accepted(row.pk, row.message_id_header)  # before anything else
                    just_sent.append(row.pk)
                    outcomes[ticket.pk] = "sent"
                else:
                    outcomes[ticket.pk] = _failed(row, error)
    if just_sent:
        _mark_sent(just_sent)
        _settled(just_sent)
    return outcomes


def _settled(pks: Sequence[int]) -> None:
    """These journaled mails are recorded sent: the journal may forget them once that commits
    (at once in autocommit mode)."""
    if pks:
        done = list(pks)
        transaction.on_commit(lambda: journal.writer.settled(done))


def _record_leftovers() -> None:
    """Mails this process journaled in an earlier batch that never got their UPDATE (the
    database went away mid-batch): recorded sent now, before this batch, which is the moment
    the database is back for this worker. The stalled-mail sweep would record them too, after
    their lease; this worker knows sooner."""
    leftovers = journal.writer.unsettled()
    if not leftovers:
        return
    _mark_sent(leftovers, only_in=_JOURNALED_STATES)
    _settled(leftovers)


# A journaled mail was accepted by the server: whatever of these its row says, it was sent.
_JOURNALED_STATES = ("queued", "sending", "retry")


def _claim_chunk(just_sent: Sequence[int], rows: Sequence[OutboundEmail]) -> set[int]:
    """Record that the mails of `just_sent` were sent and that the attempts of `rows` start, in
    one UPDATE; the ids of `rows` claimed (all of them unless the stalled-mail sweep took one).

    Taken right after the server accepted the previous chunk's last mail: marking a whole batch
    at its end left every mail of a killed batch "sending", already sent or not.
    """
    lease_until = _sending_lease()
    wanted = [row.pk for row in rows]
    claim = Q(pk__in=wanted, state=OutboundEmail.State.QUEUED)
    if not just_sent:
        claimed = OutboundEmail.objects.filter(claim).update(
            state="sending", attempts=F("attempts") + 1, lease_until=lease_until
        )
    else:
        # Raw SQL: the same UPDATE built from Case/When expressions cost 5 ms of Python per
        # statement. COALESCE gives each parameter its column's type, for PostgreSQL's
        # server-side binding.
        adapt = connection.ops.adapt_datetimefield_value
        table = OutboundEmail._meta.db_table
        sent = ", ".join(["%s"] * len(just_sent))
        new = ", ".join(["%s"] * len(wanted))
        sql = (
            f"UPDATE {table} SET"  # noqa: S608 (the table name is the model's; values are bound)
            f" state = CASE WHEN id IN ({sent}) THEN 'sent' ELSE 'sending' END,"
            f" sent_at = CASE WHEN id IN ({sent}) THEN COALESCE(%s, sent_at) ELSE sent_at END,"
            f" lease_until = CASE WHEN id IN ({sent}) THEN NULL ELSE COALESCE(%s, lease_until) END,"
            f" attempts = CASE WHEN id IN ({sent}) THEN attempts ELSE attempts + 1 END,"
            f" last_error = CASE WHEN id IN ({sent}) THEN '' ELSE last_error END"
            f" WHERE id IN ({sent}) OR (id IN ({new}) AND state = 'queued')"
        )
        ids = list(just_sent)
        params = [*ids, *ids, adapt(timezone.now()), *ids, adapt(lease_until), *ids, *ids, *ids, *wanted]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            claimed = cursor.rowcount - len(just_sent)
    if claimed == len(wanted):
        taken = set(wanted)
    else:  # rare: some were taken by the sweep in the meantime; ours carry our lease
        taken = set(
            OutboundEmail.objects.filter(pk__in=wanted, state="sending", lease_until=lease_until).values_list(
                "pk", flat=True
            )
        )
    for row in rows:
        if row.pk in taken:
            row.state, row.attempts, row.lease_until = (
                OutboundEmail.State.SENDING,
                row.attempts + 1,
                lease_until,
            )
    return taken


@contextmanager
def _one_connection() -> Iterator[Any]:
    """One mail connection for a batch, opened here and closed at the end. One that cannot open
    makes each send fail on its own (and be retried), like a send without a batch."""
    mailer = mailers.default
    try:
        # Opened here, the connection stays open across the batch's sends (a backend's
        # send_messages closes only a connection it opened itself).
        mailer.open()
    except Exception:
        logger.warning("opening the mail connection failed", exc_info=True)
    try:
        yield mailer
    finally:
        try:
            mailer.close()
        except Exception:
            logger.warning("closing the mail connection failed", exc_info=True)


def _build(row: OutboundEmail, ticket: Ticket, message: Message | None) -> EmailMultiAlternatives:
    text, html = render_bodies(ticket, row.kind, message)
    headers = {
        "Message-ID": f"<{row.message_id_header}>",
        "X-WalletDesk-Ticket": ticket.reference,
    }
    if row.in_reply_to:
        headers["In-Reply-To"] = f"<{row.in_reply_to}>"
    if row.references:
        headers["References"] = " ".join(f"<{r}>" for r in row.references.split())
    if row.automatic:
        headers["Auto-Submitted"] = AUTOMATIC_KINDS.get(row.kind, "auto-generated")
        headers["X-Auto-Response-Suppress"] = "All"
    mail = EmailMultiAlternatives(
        subject=row.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to_address],
        headers=headers,
    )
    mail.attach_alternative(html, "text/html")
    return mail


def backoff(attempt: int) -> timedelta:
    return timedelta(
        seconds=backoff_from(attempt, base=settings.EMAIL_SEND_RETRY_BASE_SECONDS, cap=6 * 3600, factor=4)
    )


def deliver(outbound_id: int, states: Sequence[str] = ("queued", "retry")) -> str:
    """Send one recorded mail. Claims it atomically, so two workers never send it twice."""
    claimed = OutboundEmail.objects.filter(pk=outbound_id, state__in=list(states)).update(
        state="sending", attempts=F("attempts") + 1, lease_until=_sending_lease()
    )
    if not claimed:
        return "not_claimed"
    row = OutboundEmail.objects.get(pk=outbound_id)
    ticket = Ticket.objects.select_related("contact", "category").get(pk=row.ticket_id)
    message = Message.objects.filter(pk=row.message_id).first() if row.message_id else None
    return _attempt(row, ticket, message)


def _attempt(row: OutboundEmail, ticket: Ticket, message: Message | None) -> str:
    """Send a row this worker has claimed (state sending); record the outcome."""
    error = _send(row, ticket, message)
    if error is not None:
        return _failed(row, error)
    _mark_sent([row.pk])
    return "sent"


def _mark_sent(pks: Sequence[int], *, only_in: Sequence[str] = ()) -> None:
    """Record these mails sent now (only those still in one of `only_in`'s states, if given)."""
    rows = OutboundEmail.objects.filter(pk__in=pks)
    if only_in:
        rows = rows.filter(state__in=list(only_in))
    rows.update(state="sent", sent_at=timezone.now(), last_error="", lease_until=None)


def recover_stalled(now: datetime | None = None, limit: int = 500) -> int:
    """Send again, once, the mails left "sending" past their lease (their sender died), unless
    the sent journal says the server accepted them.

    The sweep of every worker runs this (core.worker). First the journals (journal.py): the
    mails of writers that died are recorded sent and their files removed; a stalled mail a live
    writer journaled (its UPDATE failed: the database went away) is recorded sent too. Each
    other stalled row is put back to "retry" with a conditional UPDATE (so two sweepers cannot
    both take it) and a delivery task is queued; `deliver` claims it like any retry, with the
    row's own Message-ID. Rows written before the lease existed (no lease_until) count as
    expired.
    """
    now = now or timezone.now()
    accepted = journal.read()
    try:
        # A dead writer updates nothing any more: its journaled rows are recorded now, lease or not.
        _record_journaled(accepted.dead, Q(state__in=_JOURNALED_STATES))
    except BaseException:
        accepted.release(remove=False)
        raise
    accepted.release(remove=True)
    expired = Q(state=OutboundEmail.State.SENDING) & (Q(lease_until__lt=now) | Q(lease_until__isnull=True))
    stalled = list(OutboundEmail.objects.filter(expired).values_list("pk", "message_id_header")[:limit])
    ids = {message_id: pk for pk, message_id in stalled}
    # A live writer's journaled mail past its lease: its chunk's UPDATE failed (the database
    # went away) and the writer has not recorded it since. Accepted: recorded, not sent again.
    known = {mid: line for mid, line in accepted.live.items() if ids.get(mid) == line[0]}
    _record_journaled(known, expired)
    recovered = 0
    for pk, message_id in stalled:
        if message_id in known:
            continue
        with transaction.atomic():
            taken = OutboundEmail.objects.filter(expired, pk=pk).update(
                state="retry",
                last_error="its sender stopped during the attempt; sent again with the same Message-ID",
                lease_until=None,
            )
            if taken:
                _schedule_retry(pk, timedelta(0))
                recovered += 1
    if recovered:
        logger.warning("re-sending %d mail(s) left 'sending' by a worker that died", recovered)
    return recovered


def _record_journaled(lines: dict[str, tuple[int, float]], still: Q) -> int:
    """Record sent, at the time the journal says, the rows of these journal lines (Message-ID ->
    (row id, time)) that are still in `still`; both the id and the Message-ID must match, so a
    journal left from another database records nothing."""
    recorded = 0
    for message_id, (pk, at) in lines.items():
        recorded += OutboundEmail.objects.filter(still, pk=pk, message_id_header=message_id).update(
            state="sent", sent_at=datetime.fromtimestamp(at, tz=UTC), last_error="", lease_until=None
        )
    if recorded:
        logger.warning("recorded %d mail(s) as sent from the sent journal; not sending them again", recorded)
    return recorded


def _send(row: OutboundEmail, ticket: Ticket, message: Message | None, mailer: Any = None) -> str | None:
    """Build and send one mail (over `mailer`, else a connection of its own); the error, or None."""
    try:
        mail = _build(row, ticket, message)
        if mailer is None:
            mail.send()
        else:
            mailer.send_messages([mail])
    except Exception as exc:
        metrics.mail(row.kind, "failed")
        return f"{type(exc).__name__}: {exc}"[:1000]
    metrics.mail(row.kind, "sent")
    return None


def _failed(row: OutboundEmail, error: str) -> str:
    """Record a failed attempt: retried with backoff, or failed for good with a note on the ticket."""
    if row.attempts < settings.EMAIL_SEND_MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=row.pk).update(state="retry", last_error=error, lease_until=None)
        _schedule_retry(row.pk, backoff(row.attempts))
        return "retry"
    OutboundEmail.objects.filter(pk=row.pk).update(state="failed", last_error=error, lease_until=None)
    _note_failure(row, error)
    metrics.mail(row.kind, "undeliverable")
    return "failed"


def _schedule_retry(outbound_id: int, delay: timedelta) -> None:
    # By path: the tasks module imports this one (its task runs `deliver`), not the other way.
    deliver_outbound = queue.task_named(_DELIVER_OUTBOUND)
    if default_task_backend.supports_defer:
        deliver_outbound.using(run_after=timezone.now() + delay).enqueue(outbound_id=outbound_id)
    else:  # the immediate backend (tests): retry at once, still bounded by the attempt count
        deliver_outbound.enqueue(outbound_id=outbound_id)


def _note_failure(row: OutboundEmail, error: str) -> None:
    ticket = Ticket.objects.get(pk=row.ticket_id)
    what = {"reply": "An agent reply", "created": "The acknowledgement", "solved": "The solved notice"}.get(
        row.kind, "A notification"
    )
    actions.add_system_note(
        ticket,
        f"{what} could not be emailed to {row.to_address} after {row.attempts} attempts: {error}",
        kind="email_send_failed",
        flag={
            "code": "email_undelivered",
            "reason": f"Email to the customer failed: {what.lower()} was not delivered.",
        },
        outbound=row.message_id_header,
        error=error[:300],
    )
