"""Inbound mail: raw RFC 5322 bytes in, a ticket message (or a recorded reason) out.

    result = ingest(raw, mailbox=None)   # IngestResult(outcome, ticket_reference, reason)

Every path (IMAP poll, MTA pipe, the quarantine's re-process button, the benchmark) comes
through here. The rules:

- Nothing escapes and nothing is lost. Whatever happens, the raw bytes end up in an
  `InboundEmail` row (encrypted at rest) with the outcome and the reason, in the same
  transaction as the ticket message they became. Any unexpected error quarantines the mail.
- Idempotent on the Message-ID (or the content hash when there is none): a mail fetched twice
  (a crash between commit and the IMAP \\Seen flag) is a `duplicate`, never a second message.
- Parse and check outside the write transaction: the transaction only inserts.
- Text reaches the database only through `tickets.actions` (which runs the shield).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from walletdesk.accounts import crypto
from walletdesk.core import helpers, rows
from walletdesk.core.locks import lock_rows
from walletdesk.tickets import actions, screening
from walletdesk.tickets import language as language_of
from walletdesk.tickets.actions import DuplicateMessage, NewTicket, TicketError
from walletdesk.tickets.files import CheckedFile, RejectedFile, check_file
from walletdesk.tickets.models import Channel, Message, Proof, Status, Ticket
from walletdesk.tickets.references import find_reference

from . import authn
from .models import InboundEmail, OutboundEmail, Outcome
from .parse import ParsedMail, UnparseableMail, parse_mail

if TYPE_CHECKING:
    from .models import Mailbox

logger = logging.getLogger(__name__)

MAX_KEY = 255  # Message.external_id and InboundEmail.key
MAX_BODY = actions.MAX_BODY
MAX_SUBJECT = actions.MAX_SUBJECT
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # created, appended, duplicate, ignored, quarantined
    ticket_reference: str | None = None
    reason: str = ""
    # False only when even the quarantine row could not be written (the database is down):
    # the MTA pipe then exits non-zero so the MTA keeps the mail and retries.
    kept: bool = True

    @property
    def stored(self) -> bool:
        return self.outcome in (Outcome.CREATED, Outcome.APPENDED, Outcome.DUPLICATE)


@dataclass
class Prepared:
    """Everything decided before the write transaction: parsing, file checks, texts."""

    raw: bytes
    key: str
    sha256: str
    parsed: ParsedMail | None = None
    problem: str = ""  # set => quarantine with this reason
    subject: str = ""
    body: str = ""
    language: str = "en"
    files: list[CheckedFile] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (screened file name, why)
    # (where, kind) of every secret the shield took out of the subject or a dropped file's name
    secrets: list[tuple[str, str]] = field(default_factory=list)
    reply: actions.ScreenedMessage | None = None  # the body screened ahead, for a likely reply
    sealed: bytes = b""  # `raw` encrypted ahead (by a helper process), for the log row
    # What proved the mail comes from its From address (authn.check), or "": an unproven
    # sender is a guest, whatever address it shows.
    authenticated_by: str = ""


# A Message-ID has no spaces, so a secret in one is a key (an alphanumeric run of 51 or more) or
# words or hex blocks joined by punctuation. Ids that show neither skip the scan: threading
# computes the key of every id a reply names, up to 60, some inside the write transaction.
_LONG_ALNUM_RUN = re.compile(r"[A-Za-z0-9]{51}")
_ID_PUNCTUATION = re.compile(r"[^A-Za-z0-9@]")


def _id_may_hold_secret(message_id: str) -> bool:
    return (
        not message_id.isascii()
        or _LONG_ALNUM_RUN.search(message_id) is not None
        or len(_ID_PUNCTUATION.findall(message_id)) >= 7
    )


def id_key(message_id: str) -> str:
    """A Message-ID as stored: as is when it fits the column and holds no secret, else a hash
    of it (stable, so a reply's In-Reply-To still finds it)."""
    if len(message_id) <= MAX_KEY and not (
        _id_may_hold_secret(message_id) and screening.screen_value(message_id).secret_kinds
    ):
        return message_id
    return "sha256id:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def _language(text: str) -> str:
    if not _CJK.search(text):
        return "en"
    # Traditional text is told apart from Simplified (tickets.language); the rest stays zh-hans.
    return "zh-hant" if language_of.detect(text) == "zh-hant" else "zh-hans"


def _subject(parsed: ParsedMail, language: str) -> tuple[str, tuple[str, ...]]:
    """The subject as stored (screened: it goes to the mail log too), and what the shield took."""
    subject = " ".join(parsed.subject.split())
    if not subject:
        subject = {"zh-hans": "（无主题）", "zh-hant": "（無主旨）"}.get(language, "(no subject)")
    screened = screening.screen_value(subject)
    return screened.text[:MAX_SUBJECT], screened.secret_kinds


def _body(parsed: ParsedMail, files: int, dropped: int) -> str:
    text = (parsed.reply_text or parsed.text or "").replace("\x00", "").strip()
    if not text:
        text = "(attachments only)" if files or dropped else "(empty message)"
    if len(text) > MAX_BODY:
        note = "\n[… truncated; the whole mail is kept]"
        text = text[: MAX_BODY - len(note)] + note
    return text


def _check_attachments(
    parsed: ParsedMail,
) -> tuple[list[CheckedFile], list[tuple[str, str]], list[tuple[str, str]]]:
    files: list[CheckedFile] = []
    dropped: list[tuple[str, str]] = []
    secrets: list[tuple[str, str]] = []
    for attachment in parsed.attachments:
        name = attachment.filename or "attachment"
        try:
            checked = check_file(name, attachment.payload)
        except RejectedFile as exc:
            dropped.append((exc.name, exc.code))  # the screened name: it goes into a note
            secrets += [("attachment name", kind) for kind in exc.secret_kinds]
            continue
        if any(f.sha256 == checked.sha256 for f in files):
            continue  # the same picture inline and attached
        if len(files) >= settings.ATTACHMENT_MAX_COUNT:
            dropped.append((checked.filename, "too_many_files"))
            secrets += [("attachment name", kind) for kind in checked.secret_kinds]
            continue
        files.append(checked)
    return files, dropped, secrets


def prepare(raw: bytes) -> Prepared:
    """Parse and check one mail. No database access; never raises."""
    sha = hashlib.sha256(raw).hexdigest()
    prepared = Prepared(raw=raw, key=f"sha256:{sha}", sha256=sha)
    try:
        parsed = parse_mail(raw)
    except UnparseableMail as exc:
        prepared.problem = f"unparseable: {exc.reason}"
        return prepared
    except Exception as exc:  # a parser bug must not lose the mail
        logger.exception("parse_mail raised")
        prepared.problem = f"parser error: {type(exc).__name__}: {exc}"[:500]
        return prepared
    prepared.parsed = parsed
    if parsed.message_id:
        prepared.key = id_key(parsed.message_id)
    if parsed.from_address and parsed.auto_reply_reason is None:
        prepared.authenticated_by = authn.check(raw, parsed.from_address).by
    try:
        language = _language(f"{parsed.subject}\n{parsed.text[:2000]}")
        prepared.language = language
        prepared.subject, subject_secrets = _subject(parsed, language)
        prepared.secrets = [("subject", kind) for kind in subject_secrets]
        if parsed.auto_reply_reason is None:
            prepared.files, prepared.dropped, dropped_secrets = _check_attachments(parsed)
            prepared.secrets += dropped_secrets
            prepared.body = _body(parsed, len(prepared.files), len(prepared.dropped))
    except Exception as exc:
        logger.exception("preparing a parsed mail failed")
        prepared.problem = f"internal error: {type(exc).__name__}: {exc}"[:500]
    return prepared


# --- threading --------------------------------------------------------------------------------


def find_thread(parsed: ParsedMail) -> Ticket | None:
    """The ticket this mail answers: by In-Reply-To/References against the Message-IDs we
    received and sent, then by a ticket reference in the subject from the ticket's own contact."""
    ids = [id_key(i) for i in parsed.thread_ids[:60]]
    if ids:
        # Ours first: a reply usually answers the last mail we sent.
        sent = {
            o.message_id_header: o.ticket
            for o in OutboundEmail.objects.select_related("ticket").filter(message_id_header__in=ids)
        }
        for message_id in ids:
            if message_id in sent:
                return sent[message_id]
        received = actions.find_ticket_by_message_ids(Channel.EMAIL, ids)
        if received is not None:
            return received
    reference = find_reference(parsed.subject)
    if reference:
        ticket = Ticket.objects.select_related("contact").filter(reference=reference).first()
        # A reference alone is not proof: only the ticket's own contact threads by subject.
        if ticket is not None and ticket.contact.email == parsed.from_address:
            return ticket
    return None


def may_append(prepared: Prepared, ticket: Ticket) -> bool:
    """Whether this mail may be added to the ticket it answers.

    A claim's ticket takes any reply (nothing is gained by writing on it). A ticket whose
    requester is proven (an account's, or a confirmed address's) takes only mail
    authenticated as that address: knowing a Message-ID or a reference is not proof, and a
    forged reply must not be read by an agent beside the account's actions. Such a mail opens
    a new, unconfirmed ticket linked to the one it answers instead.
    """
    contact = ticket.contact
    if not contact.proof:
        return True
    parsed = prepared.parsed
    return bool(
        prepared.authenticated_by
        and parsed is not None
        and contact.email
        and parsed.from_address == contact.email.lower()
    )


def _follow_merges(ticket: Ticket) -> Ticket:
    for _ in range(5):
        if ticket.merged_into_id is None:
            break
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


# --- storing ----------------------------------------------------------------------------------


def _log(
    prepared: Prepared,
    *,
    mailbox: Mailbox | None,
    source: str,
    outcome: str,
    reason: str = "",
    ticket: Ticket | None = None,
    message: Any = None,
) -> InboundEmail:
    row = _log_row(prepared, mailbox, source, outcome, reason)
    row.ticket, row.message = ticket, message
    rows.insert([row])
    return row


def _existing(key: str) -> IngestResult | None:
    row = InboundEmail.objects.filter(key=key).values_list("outcome", "ticket__reference").first()
    if row is None:
        return None
    return IngestResult(Outcome.DUPLICATE, row[1], f"already received ({row[0]})")


def _note_dropped(ticket: Ticket, dropped: Sequence[tuple[str, str]]) -> None:
    reasons = {
        "file_too_large": f"larger than {settings.ATTACHMENT_MAX_BYTES / 1_048_576:.1f} MB",
        "file_type_not_allowed": "not a picture or PDF",
        "empty_file": "empty",
        "too_many_files": f"more than {settings.ATTACHMENT_MAX_COUNT} files",
    }
    lines = [f"- {name}: {reasons.get(code, code)}" for name, code in dropped]
    actions.add_system_note(
        ticket,
        "Attachments from this email were not stored (the original mail is kept):\n" + "\n".join(lines),
        kind="attachment_dropped",
        files=[{"name": name, "reason": code} for name, code in dropped],
    )


def _store(prepared: Prepared, mailbox: Mailbox | None, source: str) -> IngestResult:
    parsed = prepared.parsed
    assert parsed is not None
    if parsed.auto_reply_reason is not None:
        with transaction.atomic():
            _log(
                prepared,
                mailbox=mailbox,
                source=source,
                outcome=Outcome.IGNORED,
                reason=parsed.auto_reply_reason,
            )
        return IngestResult(Outcome.IGNORED, None, parsed.auto_reply_reason)
    if not _sender(parsed):
        return _quarantine(prepared, mailbox, source, "no sender address to answer")

    with transaction.atomic():
        ticket = find_thread(parsed)
        if ticket is not None:
            ticket = _follow_merges(ticket)
        message = None
        if ticket is not None and ticket.status != Status.CLOSED and may_append(prepared, ticket):
            try:
                message = actions.add_customer_message(
                    ticket,
                    prepared.body,
                    channel=Channel.EMAIL,
                    external_id=prepared.key,
                    attachments=prepared.files,
                    screened=prepared.reply,
                )
                outcome = Outcome.APPENDED
            except TicketError as exc:
                if exc.code != "ticket_closed":
                    raise
                ticket.status = Status.CLOSED  # closed meanwhile: fall through to a follow-up
        if message is None:
            # follow_up_of is set only when the ticket it answers is closed, or is an
            # account's and this mail may not write on it (may_append)
            ticket = actions.create_ticket(_new_ticket(prepared, mailbox, follow_up_of=ticket))
            message = ticket.messages.order_by("id").first()
            outcome = Outcome.CREATED
        assert ticket is not None
        if prepared.dropped:
            _note_dropped(ticket, prepared.dropped)
        _log(prepared, mailbox=mailbox, source=source, outcome=outcome, ticket=ticket, message=message)
    return IngestResult(outcome, ticket.reference, "")


def _quarantine(prepared: Prepared, mailbox: Mailbox | None, source: str, reason: str) -> IngestResult:
    try:
        with transaction.atomic():
            existing = _existing(prepared.key)
            if existing is not None:
                return existing
            _log(prepared, mailbox=mailbox, source=source, outcome=Outcome.QUARANTINED, reason=reason)
    except Exception:
        logger.exception("could not even quarantine a mail (%s): %s", prepared.key, reason)
        return IngestResult(Outcome.QUARANTINED, None, reason, kept=False)
    return IngestResult(Outcome.QUARANTINED, None, reason)


def ingest_prepared(
    prepared: Prepared, mailbox: Mailbox | None = None, *, source: str = "pipe"
) -> IngestResult:
    try:
        if prepared.problem:
            return _quarantine(prepared, mailbox, source, prepared.problem)
        existing = _existing(prepared.key)
        if existing is not None:
            return existing
        try:
            return _store(prepared, mailbox, source)
        except DuplicateMessage as exc:
            return IngestResult(Outcome.DUPLICATE, exc.extra.get("reference"), "already received")
        except IntegrityError:
            # A concurrent poll stored the same mail first (unique key): not an error.
            existing = _existing(prepared.key)
            if existing is not None:
                return existing
            raise
        except TicketError as exc:
            return _quarantine(prepared, mailbox, source, f"refused by the desk: {exc.code}: {exc.message}")
    except Exception as exc:
        logger.exception("ingest failed; quarantining %s", prepared.key)
        return _quarantine(prepared, mailbox, source, f"internal error: {type(exc).__name__}: {exc}"[:500])


def ingest(raw: bytes, mailbox: Mailbox | None = None, *, source: str = "pipe") -> IngestResult:
    """Store one raw mail. Never raises; see the module docstring."""
    try:
        # A caller handing text (a webhook's JSON field) still gets its mail kept.
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    except Exception as exc:
        return IngestResult(Outcome.QUARANTINED, None, f"not bytes: {type(exc).__name__}", kept=False)
    return ingest_prepared(prepare(data), mailbox, source=source)


def ingest_many(
    raws: Iterable[bytes], mailbox: Mailbox | None = None, *, source: str = "imap"
) -> list[IngestResult]:
    """One batch of `ingest_stream`: the results in the order of `raws`."""
    return [result for batch in ingest_stream([list(raws)], mailbox, source=source) for result in batch]


def ingest_stream(
    batches: Iterable[Sequence[bytes]], mailbox: Mailbox | None = None, *, source: str = "imap"
) -> Iterator[list[IngestResult]]:
    """The poller's path: store batches of mail, yielding each batch's results once committed.

    Each batch is cut into chunks of EMAIL_INGEST_COMMIT_EVERY mails. A chunk is parsed and
    drafted first (`_prepare_and_draft`: checks, shield, triage, SLA, as if each mail opened a
    ticket), then stored in one transaction (`_store_chunk`). Where helper processes may run
    (`core.helpers`), the chunks after the first are drafted there, a few ahead, while this
    process stores: the two halves of the work then run on two cores. The next batch is taken
    from `batches` (the poller's next IMAP fetch) while this one is stored, so the helpers
    never wait for the poller to flag what it fetched.

    Nothing here depends on a helper: if one dies or fails, its chunk is drafted again here.
    The caller flags the IMAP messages of a batch only after its results were yielded, that is
    after the commit.
    """
    every = max(1, settings.EMAIL_INGEST_COMMIT_EVERY)
    helper_pool = helpers.pool()
    ahead = 2 * settings.HELPER_PROCESSES + 1 if helper_pool is not None else 0
    source_batches = iter(batches)
    window: deque[deque[_Chunk]] = deque()  # taken batches, their chunks not yet stored
    first = True

    def take() -> bool:
        nonlocal first
        batch = next(source_batches, None)
        if batch is None:
            return False
        raws = [bytes(raw) for raw in batch]
        chunks: deque[_Chunk] = deque()
        for start in range(0, len(raws), every):
            # The very first chunk is drafted here, while the helpers draft the next ones.
            chunks.append(_Chunk(raws[start : start + every], mailbox, None if first else helper_pool))
            first = False
        window.append(chunks)
        return True

    def queued() -> int:
        return sum(len(chunks) for chunks in window)

    while window or take():
        results: list[IngestResult] = []
        chunks = window[0]
        while chunks:
            chunk = chunks.popleft()
            while queued() < ahead and take():
                pass
            results += _store_chunk(chunk.drafted(), mailbox, source)
        window.popleft()
        yield results


class _Chunk:
    """Up to EMAIL_INGEST_COMMIT_EVERY mails, drafted in a helper process or, failing that, here."""

    def __init__(
        self, raws: list[bytes], mailbox: Mailbox | None, helper_pool: ProcessPoolExecutor | None
    ) -> None:
        self.raws, self.mailbox = raws, mailbox
        self.future: Future[list[tuple[Prepared, actions.Draft | None]]] | None = None
        if helper_pool is not None:
            try:
                self.future = helper_pool.submit(_drafted_in_helper, raws, mailbox)
            except Exception:  # a broken pool: draft here
                logger.warning("the helper pool is broken; drafting in the poller", exc_info=True)
                helpers.discard()

    def drafted(self) -> list[tuple[Prepared, actions.Draft | None]]:
        if self.future is not None:
            try:
                drafted = self.future.result()
            except Exception:
                # A helper that died, or whose answer could not be pickled: the mails are all
                # still here, so this process drafts them again and nothing is lost.
                logger.warning(
                    "a helper failed to draft %d mails; drafting them here", len(self.raws), exc_info=True
                )
                if isinstance(self.future.exception(), BrokenExecutor):
                    helpers.discard()
            else:
                for (prepared, _draft), raw in zip(drafted, self.raws, strict=True):
                    prepared.raw = raw  # not sent back: this process has it
                return drafted
        return _prepare_and_draft(self.raws, self.mailbox)


def _prepare_and_draft(
    raws: Sequence[bytes], mailbox: Mailbox | None
) -> list[tuple[Prepared, actions.Draft | None]]:
    """Parse, check and draft mails: reads settings and caches, writes no row."""
    drafted: list[tuple[Prepared, actions.Draft | None]] = []
    for raw in raws:
        prepared = prepare(raw)
        draft = None
        # Not a mail that names what it answers (In-Reply-To, References, a reference in the
        # subject): that is nearly always a reply, and the rare one that opens a ticket after
        # all is drafted inside the transaction.
        try:
            if not _looks_like_reply(prepared):
                draft = _speculative_draft(prepared, mailbox)
            elif _storable(prepared):
                prepared.reply = actions.screen_message(prepared.body)
        except TicketError:
            pass  # refused: storing it one by one quarantines it with the reason
        except Exception:
            # Stored one by one instead, where an error quarantines only this mail.
            logger.exception("drafting %s failed", prepared.key)
        drafted.append((prepared, draft))
    return drafted


def _drafted_in_helper(
    raws: Sequence[bytes], mailbox: Mailbox | None
) -> list[tuple[Prepared, actions.Draft | None]]:
    try:
        drafted = _prepare_and_draft(raws, mailbox)
    except Exception:
        connections.close_all()  # the helper's own: a broken one must not fail every chunk after
        raise
    for prepared, _draft in drafted:
        # Encrypted here, off the poller's core; the plain bytes are not sent back: it has them.
        prepared.sealed = crypto.encrypt(prepared.raw)
        prepared.raw = b""
    return drafted


def _store_chunk(
    drafted: Sequence[tuple[Prepared, actions.Draft | None]], mailbox: Mailbox | None, source: str
) -> list[IngestResult]:
    """Store drafted mails in one transaction (`_store_batch`). If anything in it fails, it is
    rolled back and its mails go through `ingest_prepared` one by one, each in its own
    savepoint, so a bad mail quarantines only itself."""
    chunk = [prepared for prepared, _draft in drafted]
    try:
        with transaction.atomic():
            return _store_batch(chunk, mailbox, source, [draft for _prepared, draft in drafted])
    except Exception:
        logger.warning("storing %d mails together failed; storing them one by one", len(chunk), exc_info=True)
    with transaction.atomic():
        return [ingest_prepared(prepared, mailbox, source=source) for prepared in chunk]


@dataclass
class _Pending:
    """One mail of a batch on its way to the database."""

    prepared: Prepared
    result: IngestResult | None = None
    log: InboundEmail | None = None
    thread: Ticket | None = None  # the ticket it answers, if stored before this batch
    after: int | None = None  # or the index of an earlier mail of this batch it answers
    draft: actions.Draft | None = None
    ticket: Ticket | None = None
    opened: bool = False  # its ticket was opened by it
    message: Any = None


def _log_row(
    prepared: Prepared, mailbox: Mailbox | None, source: str, outcome: str, reason: str = ""
) -> InboundEmail:
    parsed = prepared.parsed
    # Every text column passes the shield (the subject already did, in prepare(), unless the
    # mail failed before that); a sender address holding a secret is not kept at all.
    from_address = parsed.from_address if parsed else ""
    if screening.screen_value(from_address).secret_kinds:
        from_address = ""
    subject = prepared.subject or screening.screen_value(parsed.subject if parsed else "").text
    return InboundEmail(
        key=prepared.key,
        mailbox=mailbox,
        source=source,
        raw_encrypted=prepared.sealed or crypto.encrypt(prepared.raw),
        size=len(prepared.raw),
        sha256=prepared.sha256,
        from_address=from_address[:254],
        subject=subject[:200],
        outcome=outcome,
        reason=screening.screen_value(reason).text[:2000],
    )


def _looks_like_reply(prepared: Prepared) -> bool:
    parsed = prepared.parsed
    return parsed is not None and bool(parsed.thread_ids or find_reference(parsed.subject))


def _storable(prepared: Prepared) -> bool:
    """Whether the mail may become a ticket message (not quarantined or ignored)."""
    parsed = prepared.parsed
    return (
        not prepared.problem
        and parsed is not None
        and parsed.auto_reply_reason is None
        and bool(_sender(parsed))
    )


def _speculative_draft(prepared: Prepared, mailbox: Mailbox | None) -> actions.Draft | None:
    if not _storable(prepared):
        return None
    try:
        return actions.draft(_new_ticket(prepared, mailbox, follow_up_of=None))
    except TicketError:
        return None  # refused: the one-by-one path quarantines it with the reason


def _store_batch(
    chunk: Sequence[Prepared],
    mailbox: Mailbox | None,
    source: str,
    drafts: Sequence[actions.Draft | None],
) -> list[IngestResult]:
    """Store a batch in the caller's transaction, with the same outcomes as one by one."""
    pending = [_Pending(p, draft=d) for p, d in zip(chunk, drafts, strict=True)]
    known = {
        key: (outcome, reference)
        for key, outcome, reference in InboundEmail.objects.filter(
            key__in=[p.key for p in chunk]
        ).values_list("key", "outcome", "ticket__reference")
    }
    first_of_key: dict[str, int] = {}
    for i, item in enumerate(pending):
        p = item.prepared
        if p.key in known:
            outcome, reference = known[p.key]
            item.result = IngestResult(Outcome.DUPLICATE, reference, f"already received ({outcome})")
        elif p.key in first_of_key:
            item.after = first_of_key[p.key]  # the same mail twice in one fetch
            item.result = IngestResult(Outcome.DUPLICATE, None, "already received")
        elif p.problem:
            item.log = _log_row(p, mailbox, source, Outcome.QUARANTINED, p.problem)
            item.result = IngestResult(Outcome.QUARANTINED, None, p.problem)
        elif p.parsed is not None and p.parsed.auto_reply_reason is not None:
            reason = p.parsed.auto_reply_reason
            item.log = _log_row(p, mailbox, source, Outcome.IGNORED, reason)
            item.result = IngestResult(Outcome.IGNORED, None, reason)
        elif not _sender(p.parsed):
            reason = "no sender address to answer"
            item.log = _log_row(p, mailbox, source, Outcome.QUARANTINED, reason)
            item.result = IngestResult(Outcome.QUARANTINED, None, reason)
        first_of_key.setdefault(p.key, i)

    live = [item for item in pending if item.result is None]
    _thread_batch(live, {p.key: i for i, p in enumerate(chunk)})

    # New tickets first, all together; then replies, in arrival order, since a reply may
    # answer a mail that opened its ticket a moment ago in this same batch.
    opening = [
        item
        for item in live
        if item.after is None
        and (
            item.thread is None
            or item.thread.status == Status.CLOSED
            or not may_append(item.prepared, item.thread)
        )
    ]
    for item in opening:
        if item.draft is None and _looks_like_reply(item.prepared):
            item.draft = _speculative_draft(item.prepared, mailbox)
        if item.draft is None:
            raise RuntimeError("a mail the desk refuses")  # the one-by-one path quarantines it
        item.draft.new.follow_up_of = item.draft.ticket.follow_up_of = item.thread
    written = actions.write_drafts([item.draft for item in opening if item.draft is not None])
    for item, ticket in zip(opening, written, strict=True):
        if isinstance(ticket, TicketError):
            raise ticket  # the one-by-one path answers it (quarantine or duplicate)
        item.ticket, item.opened = ticket, True
        item.message = item.draft.message if item.draft else None
    replies = [item for item in live if item.ticket is None]
    # The tickets answered, locked once for the batch in primary-key order (core.locks); a
    # ticket opened in this batch is the transaction's own and needs no lock.
    locked = lock_rows(Ticket, {item.thread.pk for item in replies if item.thread is not None})
    if actions.existing_messages((Channel.EMAIL, item.prepared.key) for item in replies):
        raise RuntimeError("a reply already stored as a message")  # the one-by-one path answers it
    for item in replies:
        target = locked.get(item.thread.pk) if item.thread is not None else None
        if item.after is not None:
            target = pending[item.after].ticket
        if target is None or target.status == Status.CLOSED or target.merged_into_id is not None:
            # not written, closed or merged meanwhile: the one-by-one path decides
            raise RuntimeError("a reply's ticket changed")
        if item.after is not None and not may_append(item.prepared, target):
            raise RuntimeError("a reply to an account's ticket opened in this batch")  # one by one decides
        item.ticket = target
        item.message = actions.add_customer_message(
            target,
            item.prepared.body,
            channel=Channel.EMAIL,
            external_id=item.prepared.key,
            attachments=item.prepared.files,
            locked=True,
            screened=item.prepared.reply,
            checked_new=True,
        )

    for item in live:
        assert item.ticket is not None
        if item.prepared.dropped:
            _note_dropped(item.ticket, item.prepared.dropped)
        outcome = Outcome.CREATED if item.opened else Outcome.APPENDED
        item.log = _log_row(item.prepared, mailbox, source, outcome)
        item.log.ticket, item.log.message = item.ticket, item.message
        item.result = IngestResult(outcome, item.ticket.reference, "")
    rows.insert([item.log for item in pending if item.log is not None])
    for item in pending:
        if item.result is not None and item.result.outcome == Outcome.DUPLICATE and item.after is not None:
            first = pending[item.after]
            item.result = IngestResult(
                Outcome.DUPLICATE, first.ticket.reference if first.ticket else None, "already received"
            )
    return [item.result for item in pending if item.result is not None]


def _sender(parsed: ParsedMail | None) -> str:
    if parsed is None:
        return ""
    sender = parsed.from_address or (parsed.reply_to[0] if parsed.reply_to else "")
    return sender if "@" in sender else ""


def _new_ticket(prepared: Prepared, mailbox: Mailbox | None, follow_up_of: Ticket | None) -> NewTicket:
    parsed = prepared.parsed
    assert parsed is not None
    category = mailbox.default_category if mailbox and mailbox.default_category_id else None
    # Screened before it is cut to the column: a cut secret fails its checksum and would pass
    # the shield in pieces.
    name = screening.screen_value(parsed.from_name)
    sender = _sender(parsed)
    # Authentication covers the From address only (not a Reply-To used in its absence).
    proven_by = prepared.authenticated_by if sender == parsed.from_address else ""
    return NewTicket(
        subject=prepared.subject,
        body=prepared.body,
        channel=Channel.EMAIL,
        email=sender,
        email_proof=Proof.MAIL if proven_by else "",
        proven_by=proven_by,
        name=name.text[:120],
        language=prepared.language,
        category=category.slug if category and category.active else None,
        team=mailbox.default_team if mailbox else None,
        external_id=prepared.key,
        attachments=prepared.files,
        follow_up_of=follow_up_of,  # set only when the ticket it answers is closed
        secrets=[*prepared.secrets, *(("name", kind) for kind in name.secret_kinds)],
    )


# What threading decides on. The tickets a batch answers are read again, whole, under their
# row lock before anything is written to them (`_store_batch`): not loaded twice in full.
_THREAD_FIELDS = ("id", "status", "merged_into_id")


def _thread_batch(items: Sequence[_Pending], batch_keys: dict[str, int]) -> None:
    """`find_thread` for a whole batch in three queries, plus threading within the batch.

    Per mail the order is find_thread's: our sent Message-IDs, then received ones (stored
    before, or earlier in this batch), then a ticket reference in the subject from the ticket's
    own contact.
    """
    ids_of = {id(item): [id_key(i) for i in item.prepared.parsed.thread_ids[:60]] for item in items}  # type: ignore[union-attr]
    all_ids = {i for ids in ids_of.values() for i in ids}
    sent: dict[str, int] = {}
    received: dict[str | None, int] = {}
    if all_ids:
        sent = dict(
            OutboundEmail.objects.filter(message_id_header__in=all_ids).values_list(
                "message_id_header", "ticket_id"
            )
        )
        received = dict(
            Message.objects.filter(channel=Channel.EMAIL, external_id__in=all_ids).values_list(
                "external_id", "ticket_id"
            )
        )
    references = {
        id(item): ref
        for item in items
        if (ref := find_reference(item.prepared.parsed.subject))  # type: ignore[union-attr]
    }
    by_reference = (
        {
            t.reference: t
            for t in Ticket.objects.select_related("contact")
            .only(*_THREAD_FIELDS, "reference", "contact__email", "contact__proof")
            .filter(reference__in=set(references.values()))
        }
        if references
        else {}
    )
    wanted: dict[int, int] = {}  # id(item) -> ticket id
    position = {id(item): batch_keys[item.prepared.key] for item in items}
    for item in items:
        ids = ids_of[id(item)]
        here = position[id(item)]
        ticket_id = next((sent[i] for i in ids if i in sent), None)
        if ticket_id is None:
            for i in ids:
                if i in received:
                    ticket_id = received[i]
                    break
                if i in batch_keys and batch_keys[i] < here:
                    item.after = batch_keys[i]
                    break
        if ticket_id is not None:
            wanted[id(item)] = ticket_id
        elif item.after is None and id(item) in references:
            ticket = by_reference.get(references[id(item)])
            if ticket is not None and ticket.contact.email == item.prepared.parsed.from_address:  # type: ignore[union-attr]
                item.thread = ticket
    tickets = (
        Ticket.objects.select_related("contact")
        .only(*_THREAD_FIELDS, "contact__email", "contact__proof")
        .in_bulk(set(wanted.values()))
        if wanted
        else {}
    )
    for item in items:
        if id(item) in wanted:
            item.thread = tickets[wanted[id(item)]]
        if item.thread is not None:
            item.thread = _follow_merges(item.thread)


def reprocess(row: InboundEmail) -> IngestResult:
    """Run a quarantined mail through ingest again (after a fix); the old row is replaced."""
    raw, mailbox, source = row.raw, row.mailbox, row.source
    with transaction.atomic():
        InboundEmail.objects.filter(pk=row.pk).delete()
        result = ingest(raw, mailbox, source=source)
        InboundEmail.objects.filter(sha256=row.sha256).update(reprocessed_at=timezone.now())
    return result
