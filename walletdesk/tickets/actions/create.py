"""Opening tickets: check, screen and triage a request (`draft`), then write drafts together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.core import logs, metrics, queue, rows
from walletdesk.tickets import channels, lifecycle, live, routing, screening, search
from walletdesk.tickets import language as language_of
from walletdesk.tickets.actions._helpers import (
    MAX_BODY,
    MAX_SUBJECT,
    _active_categories,
    _attach,
    _category,
    _check_facts,
    _clean_text,
    _enqueue,
    _escalate_for_secret,
    _save_files,
    _secret_why,
    existing_messages,
    inbound_label,
)
from walletdesk.tickets.actions.contacts import _account_contact, _verified_owners
from walletdesk.tickets.actions.errors import DuplicateMessage, InvalidInput, TicketError
from walletdesk.tickets.files import CheckedFile
from walletdesk.tickets.models import (
    PRIORITY_RANK,
    AuthorRole,
    Category,
    Channel,
    Contact,
    ContactIdentity,
    Message,
    Priority,
    Team,
    Ticket,
    TicketEvent,
)
from walletdesk.tickets.references import new_reference


@dataclass
class NewTicket:
    subject: str
    body: str
    channel: str = Channel.WEB
    email: str | None = None
    name: str = ""
    language: str = "en"
    category: str | None = None
    priority: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    user: Any = None  # the signed-in customer, if any
    identity: tuple[str, str] | None = None  # (channel, external id) the channel knows them by
    # How `email` is proven, if it is (Proof: "mail" for authenticated mail, "app" for an app
    # that vouches for its users' emails), and by whom. Empty: the email is only a claim.
    email_proof: str = ""
    proven_by: str = ""
    external_id: str | None = None  # the provider's id of the first message
    attachments: Sequence[CheckedFile] = ()
    actor: Any = None  # the agent, when an agent logs the ticket (phone)
    team: Team | None = None
    follow_up_of: Ticket | None = None
    # (where, kind) of secrets a channel already removed from what it hands over (an email's
    # subject, the name of an attachment it dropped): they count as shared like any other.
    secrets: Sequence[tuple[str, str]] = ()
    # The first message is the desk's own words, not the customer's (a live chat opens with
    # its notice before the customer has typed anything).
    opened_by_system: bool = False


# --- who the ticket is for (identity is proven, never claimed) -----------------------------------
#
# A typed email address is a claim. Only a signed-in session, a confirmed link, authenticated
# mail or an app that vouches for its users' emails attaches a ticket to the contact that
# proves the address (and, through it, to the account that owns it). A claim lands on the
# address's claim contact, which never has an account (see models.Contact).


def _contact_for(new: NewTicket) -> Contact:
    """Find or create the contact behind a new ticket: by account, channel identity, proven
    email, or else the claim contact of the typed email."""
    if new.user is not None and getattr(new.user, "is_authenticated", False):
        return _account_contact(new.user, new.language)
    if new.identity is not None:
        return _identity_contact(new)
    if not new.email and new.channel == Channel.CHAT:
        # A guest chatting without an address: answered in the chat itself, as a contact of
        # its own that nobody else's email or account can reach.
        return Contact.objects.create(name=new.name[:120], language=new.language)
    if not new.email:
        raise TicketError("required", _("Give an email address so we can answer you."), field="email")
    if new.email_proof:
        return _proven_contacts([new])[_email_of(new)]
    return _contact_by_email(new.email, new.name, new.language)


def _email_of(new: NewTicket) -> str:
    return (new.email or "").strip().lower()


def _identity_contact(new: NewTicket) -> Contact:
    """The contact a channel id (in-app user, phone number) stands for.

    An id seen before keeps its contact. A new one joins the proven contact of its email only
    when the channel vouches for that email (`email_proof`); otherwise it gets a contact of its
    own, with the email as a claim, so it never reaches anyone else's tickets.
    """
    assert new.identity is not None
    channel, external = new.identity
    identity = (
        ContactIdentity.objects.select_related("contact")
        .filter(channel=channel, external_id=external)
        .first()
    )
    if identity is not None:
        return identity.contact
    if new.email and new.email_proof:
        contact = _proven_contacts([new])[_email_of(new)]
    else:
        contact = Contact.objects.create(
            email=_email_of(new) or None, name=new.name[:120], language=new.language
        )
    ContactIdentity.objects.create(
        contact=contact,
        channel=channel,
        external_id=external,
        vouched_by=new.proven_by[:80] if new.email and new.email_proof else "",
    )
    return contact


def _proven_contacts(news: Sequence[NewTicket]) -> dict[str, Contact]:
    """The proven contact of each (proven) email, created where new: a few statements for a
    whole batch, never one per ticket. An address an account verified lands on that account."""
    wanted: dict[str, NewTicket] = {}
    for n in news:
        wanted.setdefault(_email_of(n), n)
    found = {str(c.email): c for c in Contact.objects.filter(email__in=list(wanted)).exclude(proof="")}
    missing = [email for email in wanted if email not in found]
    if not missing:
        return found
    owners = _verified_owners(missing)
    # An account whose contact carries another address (changed since) keeps its one contact.
    accounts = (
        {c.user_id: c for c in Contact.objects.filter(user_id__in=set(owners.values()))} if owners else {}
    )
    now = timezone.now()
    created = []
    for email in missing:
        n = wanted[email]
        owner = owners.get(email)
        if owner is not None and owner in accounts:
            found[email] = accounts[owner]
            continue
        created.append(
            Contact(
                email=email,
                name=n.name[:120],
                language=n.language,
                user_id=owner,
                proof=n.email_proof,
                proven_at=now,
                proven_by=n.proven_by[:200],
            )
        )
    # A concurrent first ticket for the same address raises IntegrityError here: write_drafts
    # then writes each ticket alone, and the retry finds the contact.
    Contact.objects.bulk_create(created)
    found.update({str(c.email): c for c in created})
    return found


def _contacts_for(news: Sequence[NewTicket]) -> list[Contact]:
    """The contact behind each new ticket; claims and proven emails a few statements per batch."""
    guests = {_email_of(n): n for n in news if _is_guest(n)}
    by_email = _contacts_by_email(list(guests.values())) if len(guests) > 1 else {}
    proven = [n for n in news if _is_proven_email(n)]
    by_proof = _proven_contacts(proven) if len(proven) > 1 else {}
    contacts = []
    for n in news:
        if _is_guest(n) and by_email:
            contacts.append(by_email[_email_of(n)])
        elif _is_proven_email(n) and by_proof:
            contacts.append(by_proof[_email_of(n)])
        else:
            contacts.append(_contact_for(n))
    return contacts


def _signed_in(new: NewTicket) -> bool:
    return bool(getattr(new.user, "is_authenticated", False))


def _is_guest(new: NewTicket) -> bool:
    return bool(new.email) and new.identity is None and not _signed_in(new) and not new.email_proof


def _is_proven_email(new: NewTicket) -> bool:
    return bool(new.email) and new.identity is None and not _signed_in(new) and bool(new.email_proof)


# The claim contact's columns the hot path writes itself; the others keep their defaults.
_CLAIM_INSERT = "(email, claim_key, name, language, proof, proven_by, created_at)"


def _contacts_by_email(news: Sequence[NewTicket]) -> dict[str, Contact]:
    """Claim contacts for many guest emails: one INSERT that skips known ones, one SELECT."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = []
    for n in news:
        email = _email_of(n)
        params += [email, email, n.name[:120], n.language, "", "", now]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(news))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} {_CLAIM_INSERT} VALUES {values} "  # noqa: S608
            "ON CONFLICT (claim_key) DO NOTHING",
            params,
        )
        emails = [_email_of(n) for n in news]
        # Whole rows, loaded with Model.from_db: a QuerySet costs several times more per batch.
        fields = [f.attname for f in Contact._meta.concrete_fields]
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in Contact._meta.concrete_fields)
        cursor.execute(
            f"SELECT {columns} FROM {table} WHERE claim_key IN ({', '.join(['%s'] * len(emails))})",  # noqa: S608
            emails,
        )
        # Datetimes come back as text on SQLite: the backend's converters, looked up once.
        converting = [
            (i, f, convert)
            for i, f in enumerate(Contact._meta.concrete_fields)
            for convert in connection.ops.get_db_converters(f.get_col(Contact._meta.db_table))
        ]
        loaded = []
        for values in cursor.fetchall():
            row = list(values)
            for i, f, convert in converting:
                row[i] = convert(row[i], f, connection)
            loaded.append(Contact.from_db(connection.alias, fields, row))
        return {str(c.claim_key): c for c in loaded}


def _contact_by_email(email: str, name: str, language: str) -> Contact:
    """The claim contact of this typed email, created if new, in one statement when it is new.

    Every guest ticket does this, so it skips the ORM's SELECT-then-INSERT: an INSERT that
    does nothing on a duplicate (SQLite and PostgreSQL both support ON CONFLICT), and a
    SELECT only when the contact already existed. It is never the account's contact, even
    when an account has this address: typing an address proves nothing.
    """
    email = email.strip().lower()
    table = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} {_CLAIM_INSERT} VALUES (%s, %s, %s, %s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (claim_key) DO NOTHING RETURNING id",
            [
                email,
                email,
                name[:120],
                language,
                "",
                "",
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        row = cursor.fetchone()
    if row is not None:
        return Contact(pk=row[0], email=email, claim_key=email, name=name[:120], language=language)
    return Contact.objects.get(claim_key=email)


# --- actions ----------------------------------------------------------------------------------


@dataclass
class Draft:
    """A new ticket checked, screened and triaged, before anything is written."""

    new: NewTicket
    ticket: Ticket
    body: str  # the screened first message
    text: str  # screened subject and body, for routing
    category: Category | None
    triaged: bool
    secrets_found: list[str]
    stored: list[tuple[CheckedFile, str]]
    secrets_where: list[str] = field(default_factory=list)
    message: Message | None = None  # the first message, once written
    # The request it came from (core.logs): its id follows the ticket into the tasks enqueued
    # when it is written, which may be on the writer thread, in a batch with other requests'.
    origin: logs.Origin | None = field(default_factory=logs.current)


def _user_email(new: NewTicket) -> str:
    return str(getattr(new.user, "email", "") or "") if _signed_in(new) else ""


def draft(new: NewTicket) -> Draft:
    subject = _clean_text(new.subject, field="subject", limit=MAX_SUBJECT)
    body = _clean_text(new.body, field="body", limit=MAX_BODY)
    checked_facts = _check_facts(new.facts)
    facts = checked_facts.values
    # Names, file names and facts pass the shield too (see screening.screen_value).
    secrets = [*new.secrets, *((f"facts.{name}", kind) for name, kind in checked_facts.secrets)]
    name = screening.screen_value(new.name or "")
    new.name = name.text
    secrets += [("name", kind) for kind in name.secret_kinds]
    secrets += [("attachment name", kind) for f in new.attachments for kind in f.secret_kinds]
    if new.email and screening.screen_value(new.email).secret_kinds:
        # Not a placeholder: an address is how we answer. Refused, and never echoed.
        raise InvalidInput("invalid_email", _("Enter a valid email address."), field="email")
    if new.identity and screening.screen_value(new.identity[1]).secret_kinds:
        # A channel id (phone number, app user id) is stored as the contact's identity.
        raise InvalidInput(
            "secret_in_field", _("This looks like a recovery phrase or private key; it was not stored.")
        )
    if new.priority and new.priority not in Priority.values:
        raise TicketError("unknown_priority", _("Unknown priority."), field="priority")
    if new.channel not in Channel.values:
        raise TicketError("unknown_channel", _("Unknown channel."), field="channel")
    # The customer's words decide the language we answer in; the page's is the fallback.
    language = language_of.for_ticket(f"{subject}\n{body}", new.language or "")
    category = _category(new.category)

    # The shield runs before anything is stored: what it removes is never written anywhere.
    screened_subject = screening.screen(subject)
    screened_body = screening.screen(body)
    flags = screening.merge_flags(screened_subject.flags, screened_body.flags)
    text = f"{screened_subject.text}\n{screened_body.text}"
    # Every ticket's text is triaged, a chosen category included (screening.triage_ticket):
    # a security match overrules a non-security choice, and the ticket records why.
    decision = screening.triage_ticket(
        text, category.slug if category is not None else None, settings.TRIAGE_OVERRIDE_MIN_SCORE
    )
    triage: dict[str, Any] = decision.record
    priority = new.priority
    requested_team = new.team
    if decision.overrode:
        category = _active_categories().get(decision.category) or category
        priority = decision.priority  # the security category's urgency, whatever was asked
        requested_team = None  # the security route, not the channel's default team
    elif category is None:
        category = _active_categories().get(decision.category)
        priority = priority or decision.priority
    # A category's default priority is a floor: a stolen account is urgent whatever triage says.
    if category is not None and (
        not priority or PRIORITY_RANK[Priority(category.default_priority)] > PRIORITY_RANK[Priority(priority)]
    ):
        priority = category.default_priority
    priority = priority or Priority.NORMAL
    now = timezone.now()

    stored = _save_files(new.attachments)
    ticket = Ticket(
        subject=screened_subject.text,
        priority=priority,
        channel=new.channel,
        category=category,
        language=language,
        tags=sorted(set(screened_subject.tags + screened_body.tags)),
        flags=flags,
        triage=triage,
        follow_up_of=new.follow_up_of,
        created_at=now,
        updated_at=now,
        last_customer_message_at=None if new.actor else now,
        # Facts and the contact's address as whole tokens: search by tx hash, address, email
        # or phone reads the same full-text index (tickets/identifiers.py).
        search_text=" ".join(
            filter(
                None,
                [
                    search.document(screened_subject.text, screened_body.text),
                    search.identifier_document(*facts.values(), new.email or "", _user_email(new)),
                ],
            )
        ),
        **facts,
    )
    # Team (routing rules) and SLA due times need no lock either: worked out here, they stay
    # out of the write transaction, which on SQLite holds the writer lock every process queues on.
    routing.choose_team(ticket, text, requested_team=requested_team)
    secrets += [("subject", kind) for kind in screened_subject.secret_kinds]
    secrets += [("message", kind) for kind in screened_body.secret_kinds]
    if secrets:
        _escalate_for_secret(ticket)
        ticket.triage = {**ticket.triage, "secret": _secret_why([where for where, _kind in secrets])}
    lifecycle.clock.on_created(ticket, now)  # after the escalation: the due times follow the priority
    return Draft(
        new=new,
        ticket=ticket,
        body=screened_body.text,
        text=text,
        category=category,
        triaged=decision.overrode or new.category is None,
        secrets_found=sorted({kind for _where, kind in secrets}),
        secrets_where=sorted({where for where, _kind in secrets}),
        stored=stored,
    )


def create_ticket(new: NewTicket) -> Ticket:
    result = create_tickets([new])[0]
    if isinstance(result, TicketError):
        raise result
    return result


def create_tickets(news: Sequence[NewTicket]) -> list[Ticket | TicketError]:
    """Open many tickets in one transaction: a result per request, a ticket or why not.

    The mail poller hands over everything it fetched; per ticket this saves most of the
    statements and the commit. A refused request (bad input, a message already received) is
    answered with its error and does not stop the others.
    """
    results: list[Ticket | TicketError | None] = [None] * len(news)
    drafts: list[tuple[int, Draft]] = []
    for i, new in enumerate(news):
        try:
            drafts.append((i, draft(new)))
        except TicketError as exc:
            results[i] = exc
    for (i, _draft), outcome in zip(drafts, write_drafts([d for _i, d in drafts]), strict=True):
        results[i] = outcome
    return [r for r in results if r is not None]


def write_drafts(drafts: Sequence[Draft]) -> list[Ticket | TicketError]:
    """Write checked drafts (see `draft`), together when possible.

    If the batch as a whole fails to write — a clash on a random reference, a concurrent first
    ticket from the same new contact, two drafts of one message — each ticket is written again
    on its own, so one bad row never costs the others theirs.
    """
    if len(drafts) > 1:
        try:
            return _write(drafts)
        except IntegrityError:
            pass
    outcomes: list[Ticket | TicketError] = []
    for one in drafts:
        # Drawing a new reference and re-running the transaction is simpler and cheaper than
        # a savepoint around every insert.
        for attempt in range(3):
            try:
                outcomes += _write([one])
                break
            except IntegrityError:
                if attempt == 2:
                    raise
    return outcomes


def _write(drafts: Sequence[Draft]) -> list[Ticket | TicketError]:
    """Write drafts in one transaction; an already received message is answered, not written."""
    outcome: list[Ticket | TicketError] = []
    # Everything that needs no lock was worked out in draft(): on SQLite this transaction holds
    # the one writer lock that every process queues on, so its length, not its CPU, sets how
    # many tickets per second the desk can take.
    for draft in drafts:
        # A retry after a failed batch inserts it again, and assignment happens again (the
        # round-robin pointer that picked the agent was rolled back with the batch).
        draft.ticket.pk = None
        draft.ticket.assignee = None
    with logs.bound(d.origin.request_id for d in drafts if d.origin), transaction.atomic(), queue.batch():
        seen = existing_messages((d.new.channel, d.new.external_id) for d in drafts)
        todo: list[Draft] = []
        for draft in drafts:
            duplicate = seen.get((draft.new.channel, draft.new.external_id or ""))
            if duplicate is not None:
                outcome.append(
                    DuplicateMessage(
                        "duplicate_message",
                        _("This message was already received."),
                        reference=duplicate,
                    )
                )
                continue
            outcome.append(draft.ticket)
            todo.append(draft)
        if not todo:
            return outcome
        contacts = _contacts_for([d.new for d in todo])
        for draft, contact in zip(todo, contacts, strict=True):
            ticket = draft.ticket
            ticket.contact = contact
            ticket.reference = new_reference(ticket.created_at)
            routing.assign(ticket)
        # The hot path: plain INSERTs (core.rows), not save()/create(), which cost more Python
        # than the rest of a ticket creation together.
        tickets = [d.ticket for d in todo]
        rows.insert(tickets)
        lifecycle.clock.after_insert(tickets)
        messages = [
            Message(
                ticket=d.ticket,
                author_role=AuthorRole.SYSTEM
                if d.new.opened_by_system
                else (AuthorRole.AGENT if d.new.actor else AuthorRole.CUSTOMER),
                author_user=d.new.actor
                if d.new.actor
                else (d.new.user if getattr(d.new.user, "is_authenticated", False) else None),
                author_contact=None if d.new.actor or d.new.opened_by_system else d.ticket.contact,
                channel=d.new.channel,
                external_id=d.new.external_id or None,
                body=d.body,
                created_at=d.ticket.created_at,
                # A live chat's first message is number 1 (tickets.live, chat).
                seq=1 if d.ticket.channel == Channel.CHAT else None,
            )
            for d in todo
        ]
        rows.insert(messages)
        events: list[TicketEvent] = []
        for draft, message in zip(todo, messages, strict=True):
            draft.message = message
            _attach(message, draft.stored)
            events += _creation_events(draft)
        rows.insert(events)
        for draft in todo:
            live.announce(draft.ticket, "created", message=draft.message, actor=draft.new.actor)
        # Counted once the batch is committed; a customer's first message only (an agent's or
        # the system's ticket is not inbound).
        arrived = [
            inbound_label(d.new.channel, d.origin)
            for d in todo
            if not d.new.actor and not d.new.opened_by_system
        ]
        if arrived:
            transaction.on_commit(lambda: metrics.inbound(arrived))
        # One acknowledgement task for the batch (see tasks.notify_customers).
        reachable = [ticket.pk for ticket in tickets if channels.reaches(ticket)]
        if reachable:
            _enqueue("notify_customers", ticket_ids=reachable, kind="created")
    return outcome


def _creation_events(draft: Draft) -> list[TicketEvent]:
    ticket, new = draft.ticket, draft.new
    events = [
        TicketEvent(
            ticket=ticket,
            kind="created",
            actor=new.actor,
            created_at=ticket.created_at,
            data={
                "channel": new.channel,
                "category": draft.category.slug if draft.category else None,
                "priority": ticket.priority,
                "triaged": draft.triaged,
                "team": ticket.team_id,
                "assignee": ticket.assignee_id,  # routing's choice, if it made one
            },
        )
    ]
    if new.follow_up_of is not None:
        # The old ticket's history points at its follow-up (a reply to a closed ticket).
        events.append(
            TicketEvent(
                ticket=new.follow_up_of,
                kind="follow_up_opened",
                created_at=ticket.created_at,
                data={"reference": ticket.reference},
            )
        )
    if ticket.triage.get("overrode"):
        # The agent sees in the history why a ticket filed as something else is on their desk.
        events.append(
            TicketEvent(
                ticket=ticket,
                kind="triage_override",
                created_at=ticket.created_at,
                data={k: ticket.triage.get(k) for k in ("customer_category", "category", "reason")},
            )
        )
    if draft.secrets_found:
        events.append(
            TicketEvent(
                ticket=ticket,
                kind="secret_removed",
                created_at=ticket.created_at,
                data={
                    "kinds": draft.secrets_found,
                    "where": draft.secrets_where,
                    "why": ticket.triage.get("secret", ""),
                },
            )
        )
    return events
