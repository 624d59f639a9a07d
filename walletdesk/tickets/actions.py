"""Every change to a ticket happens here.

Each action validates its input, writes in one transaction, records a TicketEvent and enqueues
its follow-up tasks. Views, API endpoints, connectors, tasks and the admin all call these.

Tasks are enqueued *inside* the transaction rather than on commit: the task queue is a table in
the same database (django-tasks-db), so the ticket and the job that acknowledges it commit
together or not at all. A crash between commit and an on_commit hook would otherwise lose the
acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.core import audit, queue, rows
from walletdesk.core.cache import ProcessCache
from walletdesk.core.locks import lock_rows
from walletdesk.tickets import facts as fact_rules
from walletdesk.tickets import lifecycle, routing, screening, search
from walletdesk.tickets.files import CheckedFile
from walletdesk.tickets.models import (
    FACT_FIELDS,
    PRIORITY_RANK,
    Attachment,
    AuthorRole,
    Category,
    Channel,
    Contact,
    ContactIdentity,
    Message,
    Priority,
    Proof,
    Status,
    Team,
    Ticket,
    TicketEvent,
    Visibility,
)
from walletdesk.tickets.references import new_reference

MAX_SUBJECT = 200
MAX_BODY = 20_000
FACT_MAX_LENGTH = {
    name: getattr(Ticket._meta.get_field(name), "max_length", None) or 200 for name in FACT_FIELDS
}


class TicketError(Exception):
    """A request the desk refuses, with a stable code for the API and a message for people."""

    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra


class DuplicateMessage(TicketError):
    status = 409


class InvalidInput(TicketError):
    """A value out of its format (a fact, an email holding a secret): the API's 422."""

    status = 422


class NotAllowed(TicketError):
    status = 403


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


# --- helpers ----------------------------------------------------------------------------------


def _event(ticket: Ticket, kind: str, actor: Any = None, **data: Any) -> TicketEvent:
    event = _new_event(ticket, kind, actor, **data)
    rows.insert([event])
    return event


def _new_event(ticket: Ticket, kind: str, actor: Any = None, **data: Any) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
    )


def _clean_text(value: str | None, *, field: str, limit: int, required: bool = True) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise TicketError("required", _("This field is required."), field=field)
    if len(text) > limit:
        raise TicketError(
            "too_long",
            _("Keep this under %(limit)d characters.") % {"limit": limit},
            field=field,
            limit=limit,
        )
    return text


def _clean_facts(facts: dict[str, str]) -> dict[str, str]:
    return _check_facts(facts).values


def _check_facts(facts: dict[str, str]) -> fact_rules.CheckedFacts:
    cleaned: dict[str, str] = {}
    for name, value in (facts or {}).items():
        if name not in FACT_MAX_LENGTH:
            raise TicketError("unknown_field", _("Unknown field “%(name)s”.") % {"name": name}, field=name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise TicketError("wrong_type", _("This field must be text."), field=name)
        cleaned[name] = _clean_text(value, field=name, limit=FACT_MAX_LENGTH[name], required=False)
    try:
        return fact_rules.check(cleaned)
    except fact_rules.FactError as exc:
        raise InvalidInput(exc.code, exc.message, field=exc.field) from None


# A customer who shared a recovery phrase or key must be treated as compromised: the Security
# desk takes the ticket, at high priority at least.
SECURITY_TEAM = "security"
SECRET_PRIORITY = Priority.HIGH
_security_team = ProcessCache(lambda: Team.objects.filter(slug=SECURITY_TEAM).first())


def _secret_why(where: Sequence[str]) -> str:
    return (
        "the customer shared a recovery phrase or private key (in: "
        + ", ".join(sorted(set(where)))
        + "): treat the wallet as compromised; Security desk, high priority"
    )


def _escalate_for_secret(ticket: Ticket) -> list[str]:
    """Raise the priority to high (urgent stays) and hand the ticket to the Security desk;
    returns the fields changed."""
    changed = []
    if PRIORITY_RANK[Priority(ticket.priority)] < PRIORITY_RANK[SECRET_PRIORITY]:
        ticket.priority = SECRET_PRIORITY
        changed.append("priority")
    team = _security_team.get()
    if team is not None and ticket.team_id != team.pk:
        ticket.team = team
        changed.append("team")
    if screening.SECRET_TAG not in ticket.tags:
        ticket.tags = sorted({*ticket.tags, screening.SECRET_TAG})
        changed.append("tags")
    return changed


def _load_categories() -> dict[str, Category]:
    return {c.slug: c for c in Category.objects.filter(active=True).select_related("default_team")}


# Categories change a few times a year and every ticket needs one.
_categories = ProcessCache(_load_categories)
_active_categories = _categories.get


def forget_categories() -> None:
    """Forget the cached categories and the Security desk team (both load with the teams)."""
    _categories.forget()
    _security_team.forget()


def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    category = _active_categories().get(slug)
    if category is None:
        raise TicketError(
            "unknown_category",
            _("Unknown category “%(slug)s”.") % {"slug": screening.screen_value(slug).text},
            field="category",
        )
    return category


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
    if not new.email:
        raise TicketError("required", _("Give an email address so we can answer you."), field="email")
    if new.email_proof:
        return _proven_contacts([new])[_email_of(new)]
    return _contact_by_email(new.email, new.name, new.language)


def _email_of(new: NewTicket) -> str:
    return (new.email or "").strip().lower()


def _verified_owners(emails: Iterable[str]) -> dict[str, int]:
    """Accounts that verified these addresses: {email: user id}."""
    from allauth.account.models import EmailAddress

    wanted = list(emails)
    if not wanted:
        return {}
    return {
        email.lower(): user_id
        for email, user_id in EmailAddress.objects.filter(email__in=wanted, verified=True).values_list(
            "email", "user_id"
        )
    }


def verified_addresses(user: Any) -> list[str]:
    """The addresses this account verified (lowercased); none for anyone signed out."""
    from allauth.account.models import EmailAddress

    if not getattr(user, "is_authenticated", False):
        return []
    return [
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ]


def _account_contact(user: Any, language: str) -> Contact:
    """The signed-in account's contact, created at its first ticket.

    A contact proven for the account's address by other means (a confirmed link, authenticated
    mail) becomes the account's, but only if the account verified that address. A claim never
    does: whoever typed the address before proved nothing.
    """
    contact = Contact.objects.filter(user=user).first()
    if contact is not None:
        return contact
    email = (user.email or "").strip().lower() or None
    if email is not None:
        proven = Contact.objects.filter(email=email).exclude(proof="").first()
        if proven is not None:
            if proven.user_id is None and _verified_owners([email]).get(email) == user.pk:
                proven.user = user
                proven.save(update_fields=["user"])
                return proven
            email = None  # the address is proven for someone else: this account does not get it
    return Contact.objects.create(
        email=email,
        name=user.label,
        language=language,
        user=user,
        proof=Proof.SIGNED_IN,
        proven_at=timezone.now(),
    )


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


def _check_count(files: Sequence[CheckedFile]) -> None:
    if len(files) > settings.ATTACHMENT_MAX_COUNT:
        raise TicketError(
            "too_many_files",
            _("Attach at most %(n)d files.") % {"n": settings.ATTACHMENT_MAX_COUNT},
            field="attachments",
        )


def _save_files(files: Sequence[CheckedFile]) -> list[tuple[CheckedFile, str]]:
    """Write the files before the transaction opens, so no lock is held during file I/O.

    Names are content hashes: writing the same file twice is harmless, and a file whose
    transaction then fails is an orphan, never a row without its file.
    """
    _check_count(files)
    stored = []
    for checked in files:
        name = f"attachments/{checked.sha256[:2]}/{checked.sha256}"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(checked.data))
        stored.append((checked, name))
    return stored


def _attach(message: Message, stored: list[tuple[CheckedFile, str]]) -> None:
    if not stored:
        return  # most messages: no need to set up a bulk_create inside the write transaction
    Attachment.objects.bulk_create(
        Attachment(
            message=message,
            file=name,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        for checked, name in stored
    )


def _existing_reference(channel: str, external_id: str | None) -> str | None:
    """The reference of the ticket already holding this provider message, if any."""
    return existing_messages([(channel, external_id)]).get((channel, external_id or ""))


def existing_messages(keys: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], str]:
    """The references of tickets already holding these provider messages, by (channel,
    external id): one query per channel (one, in practice) for a whole batch."""
    wanted: dict[str, set[str]] = {}
    for channel, external_id in keys:
        if external_id:
            wanted.setdefault(channel, set()).add(external_id)
    found: dict[tuple[str, str], str] = {}
    for channel, ids in wanted.items():
        for external_id, reference in Message.objects.filter(
            channel=channel, external_id__in=ids
        ).values_list("external_id", "ticket__reference"):
            found[(channel, external_id or "")] = reference
    return found


def _enqueue(task_name: str, **kwargs: Any) -> None:
    from walletdesk.tickets import tasks

    queue.enqueue(getattr(tasks, task_name), **kwargs)


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
    language = "zh-hans" if (new.language or "").lower().startswith("zh") else "en"
    category = _category(new.category)

    # The shield runs before anything is stored: what it removes is never written anywhere.
    screened_subject = screening.screen(subject)
    screened_body = screening.screen(body)
    flags = screened_subject.flags + screened_body.flags
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
        search_text=search.document(screened_subject.text, screened_body.text),
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
    with transaction.atomic(), queue.batch():
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
                author_role=AuthorRole.AGENT if d.new.actor else AuthorRole.CUSTOMER,
                author_user=d.new.actor
                if d.new.actor
                else (d.new.user if getattr(d.new.user, "is_authenticated", False) else None),
                author_contact=None if d.new.actor else d.ticket.contact,
                channel=d.new.channel,
                external_id=d.new.external_id or None,
                body=d.body,
                created_at=d.ticket.created_at,
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
        # One acknowledgement task for the batch (see tasks.notify_customers).
        reachable = [ticket.pk for ticket in tickets if ticket.contact.email]
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


def _lock_ticket(ticket_id: int) -> Ticket:
    return lock_rows(Ticket, [ticket_id])[ticket_id]


@dataclass(frozen=True)
class ScreenedMessage:
    """A customer's message checked and screened, ready for `add_customer_message`."""

    screened: screening.Screened
    document: str  # its search tokens


def screen_message(body: str) -> ScreenedMessage:
    """The work on a customer's message that needs no database: done ahead of the write
    transaction, or by a helper process (the mail poller's)."""
    body = _clean_text(body, field="body", limit=MAX_BODY)
    screened = screening.screen(body)
    return ScreenedMessage(screened, search.document(screened.text))


def add_customer_message(
    ticket: Ticket,
    body: str,
    *,
    channel: str,
    user: Any = None,
    external_id: str | None = None,
    attachments: Sequence[CheckedFile] = (),
    locked: bool = False,
    screened: ScreenedMessage | None = None,
    checked_new: bool = False,
) -> Message:
    """A customer's message on their ticket (reopening it if it was waiting or solved).

    `locked`: the caller holds the ticket's row lock in its open transaction and passes the
    row it read under that lock (the mail poller locks a batch's tickets at once).
    `screened`: `screen_message(body)`, worked out already. `checked_new`: the caller's
    transaction found no message with this external id (the poller asks once per batch).
    """
    message_text = screened or screen_message(body)
    stored = _save_files(attachments)
    now = timezone.now()
    with transaction.atomic():
        duplicate = None if checked_new else _existing_reference(channel, external_id)
        if duplicate is not None:
            raise DuplicateMessage(
                "duplicate_message", _("This message was already received."), reference=duplicate
            )
        if not locked:
            ticket = _lock_ticket(ticket.pk)
        if ticket.status == Status.CLOSED:
            raise TicketError("ticket_closed", _("This request is closed. Please open a new request."))
        message = Message(
            ticket=ticket,
            author_role=AuthorRole.CUSTOMER,
            author_user=user if getattr(user, "is_authenticated", False) else None,
            author_contact_id=ticket.contact_id,
            channel=channel,
            external_id=external_id or None,
            body=message_text.screened.text,
            created_at=now,
        )
        rows.insert([message])
        _attach(message, stored)
        fields = ["updated_at", "last_customer_message_at", "search_text", "flags", "tags"]
        previous = ticket.status
        if ticket.status in (Status.PENDING, Status.SOLVED, Status.ON_HOLD):
            ticket.status = Status.OPEN
            fields += ["status", "solved_at"]
            ticket.solved_at = None
            fields += lifecycle.clock.on_status_change(ticket, previous, now)
        ticket.updated_at = ticket.last_customer_message_at = now
        fields += lifecycle.clock.on_customer_message(ticket, now)
        ticket.search_text = f"{ticket.search_text} {message_text.document}"
        ticket.flags = [*ticket.flags, *message_text.screened.flags]
        ticket.tags = sorted(set(ticket.tags) | set(message_text.screened.tags))
        secrets = [("message", kind) for kind in message_text.screened.secret_kinds]
        secrets += [("attachment name", kind) for f in attachments for kind in f.secret_kinds]
        escalated: dict[str, Any] = {}
        if secrets:
            old_priority, old_team = ticket.priority, ticket.team_id
            changed = _escalate_for_secret(ticket)
            fields += changed
            if "priority" in changed:
                fields += lifecycle.clock.on_priority_change(ticket, now)
                escalated["priority"] = {"old": old_priority, "new": ticket.priority}
            if "team" in changed:
                escalated["team"] = {"old": old_team, "new": ticket.team_id}
                # The agent who had the ticket may not be on the Security desk, a restricted
                # team: left assigned, it would sit with someone who can no longer open it,
                # and the desk's queue would show it as taken. The desk's own mode picks again.
                old_assignee = ticket.assignee_id
                if old_assignee is not None and not ticket.team.members.filter(pk=old_assignee).exists():  # type: ignore[union-attr]
                    ticket.assignee = None
                    routing.assign(ticket)
                    fields.append("assignee")
                    escalated["assignee"] = {"old": old_assignee, "new": ticket.assignee_id}
        ticket.save(update_fields=list(dict.fromkeys(fields)))
        events = [_new_event(ticket, "customer_replied", user, channel=channel)]
        if previous != ticket.status:
            events.append(
                _new_event(
                    ticket, "status_changed", None, old=previous, new=ticket.status, why="customer replied"
                )
            )
        if secrets:
            events.append(
                _new_event(
                    ticket,
                    "secret_removed",
                    kinds=sorted({kind for _where, kind in secrets}),
                    where=sorted({where for where, _kind in secrets}),
                    why=_secret_why([where for where, _kind in secrets]),
                    **escalated,
                )
            )
        rows.insert(events)
    return message


def add_agent_message(
    ticket: Ticket,
    body: str,
    *,
    agent: Any,
    internal: bool = False,
    new_status: str | None = None,
    attachments: Sequence[CheckedFile] = (),
    override_risks: bool = False,
) -> Message:
    body = _clean_text(body, field="body", limit=MAX_BODY)
    checked = screening.screen(body)
    if checked.secret_kinds:
        # An agent never sends (or stores) a recovery phrase or key, not even in a note.
        raise TicketError(
            "reply_contains_secret",
            _(
                "This reply contains what looks like a recovery phrase or private key. Remove it before sending."
            ),
            field="body",
        )
    risks = [] if internal else screening.outbound_risks(body)
    if risks and not override_risks:
        raise TicketError(
            "reply_needs_override",
            _("This reply contains a non-official link or a payment request. Confirm to send it anyway."),
            field="body",
            risks=risks,
        )
    if new_status and new_status not in Status.values:
        raise TicketError("unknown_status", _("Unknown status."), field="status")
    stored = _save_files(attachments)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        message = Message.objects.create(
            ticket=ticket,
            visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
            author_role=AuthorRole.AGENT,
            author_user=agent,
            channel=ticket.channel if not internal else Channel.WEB,
            body=body,
            created_at=now,
        )
        _attach(message, stored)
        fields = ["updated_at", "search_text"]
        ticket.updated_at = now
        ticket.search_text = f"{ticket.search_text} {search.document(body)}"
        if not internal:
            if ticket.first_replied_at is None:
                ticket.first_replied_at = now
                fields.append("first_replied_at")
            fields += lifecycle.clock.on_agent_reply(ticket, now)
        ticket.save(update_fields=list(dict.fromkeys(fields)))
        _event(
            ticket,
            "internal_note" if internal else "agent_replied",
            agent,
            **({"override": risks} if risks else {}),
        )
        if not internal and ticket.status == Status.NEW and not new_status:
            new_status = Status.OPEN
        if new_status and new_status != ticket.status:
            _set_status(ticket, new_status, agent)
        if not internal and ticket.contact.email:
            _enqueue("notify_customer", ticket_id=ticket.pk, kind="reply", message_id=message.pk)
    return message


def _set_status(ticket: Ticket, status: str, actor: Any, why: str = "") -> None:
    old = ticket.status
    now = timezone.now()
    ticket.status = status
    ticket.updated_at = now
    fields = ["status", "updated_at"]
    if status == Status.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    elif status == Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
        fields += ["closed_at", "solved_at"]
    elif old in (Status.SOLVED, Status.CLOSED):
        ticket.solved_at = ticket.closed_at = None
        fields += ["solved_at", "closed_at"]
    fields += lifecycle.clock.on_status_change(ticket, old, now)
    ticket.save(update_fields=list(dict.fromkeys(fields)))
    _event(ticket, "status_changed", actor, old=old, new=status, **({"why": why} if why else {}))


def change_status(ticket: Ticket, status: str, *, actor: Any) -> Ticket:
    if status not in Status.values:
        raise TicketError("unknown_status", _("Unknown status."), field="status")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        if ticket.status != status:
            _set_status(ticket, status, actor)
            if status == Status.SOLVED and ticket.contact.email:
                _enqueue("notify_customer", ticket_id=ticket.pk, kind="solved")
    return ticket


def close_by_customer(ticket: Ticket, *, user: Any = None) -> Ticket:
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        if ticket.status != Status.CLOSED:
            _set_status(ticket, Status.CLOSED, user, why="closed by customer")
    return ticket


def change_priority(ticket: Ticket, priority: str, *, actor: Any) -> Ticket:
    if priority not in Priority.values:
        raise TicketError("unknown_priority", _("Unknown priority."), field="priority")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        if ticket.priority != priority:
            old = ticket.priority
            ticket.priority = priority
            ticket.updated_at = timezone.now()
            fields = [
                "priority",
                "updated_at",
                *lifecycle.clock.on_priority_change(ticket, ticket.updated_at),
            ]
            ticket.save(update_fields=list(dict.fromkeys(fields)))
            _event(ticket, "priority_changed", actor, old=old, new=priority)
    return ticket


def assign(ticket: Ticket, assignee: Any, *, actor: Any) -> Ticket:
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise TicketError("not_an_agent", _("Tickets can only be assigned to agents."), field="assignee")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        if ticket.assignee_id != (assignee.pk if assignee else None):
            old = ticket.assignee_id
            ticket.assignee = assignee
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["assignee", "updated_at"])
            _event(
                ticket,
                "assigned",
                actor,
                old=old,
                new=assignee.pk if assignee else None,
                name=assignee.label if assignee else "",
            )
    return ticket


def set_team(ticket: Ticket, team: Team | None, *, actor: Any) -> Ticket:
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        if ticket.team_id != (team.pk if team else None):
            old = ticket.team_id
            ticket.team = team
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["team", "updated_at"])
            _event(
                ticket,
                "team_changed",
                actor,
                old=old,
                new=team.pk if team else None,
                name=team.name if team else "",
            )
    return ticket


def update_facts(ticket: Ticket, facts: dict[str, str], *, actor: Any) -> Ticket:
    cleaned = _clean_facts(facts)
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        changed = {k: v for k, v in cleaned.items() if getattr(ticket, k) != v}
        if changed:
            for name, value in changed.items():
                setattr(ticket, name, value)
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=[*changed, "updated_at"])
            _event(ticket, "facts_changed", actor, fields=sorted(changed))
    return ticket


def merge(source: Ticket, target: Ticket, *, actor: Any) -> Ticket:
    """Fold a duplicate into another ticket: its messages move, it closes and points there."""
    if source.pk == target.pk:
        raise TicketError("merge_into_self", _("A ticket cannot be merged into itself."), field="target")
    with transaction.atomic():
        locked = lock_rows(Ticket, [source.pk, target.pk])
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id:
            raise TicketError("already_merged", _("This ticket was already merged."))
        if target.status == Status.CLOSED:
            raise TicketError("target_closed", _("Cannot merge into a closed ticket."), field="target")
        moved = Message.objects.filter(ticket=source).update(ticket=target)
        target.search_text = f"{target.search_text} {source.search_text}"
        target.updated_at = timezone.now()
        target.save(update_fields=["search_text", "updated_at"])
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        _set_status(source, Status.CLOSED, actor, why=f"merged into {target.reference}")
        _event(source, "merged_into", actor, target=target.reference, messages=moved)
        _event(target, "merged_from", actor, source=source.reference, messages=moved)
    return target


def find_ticket_by_message_ids(channel: str, external_ids: Sequence[str]) -> Ticket | None:
    """The ticket holding a message with one of these provider ids; the first id wins.

    Channels thread replies with it (email: In-Reply-To, then References newest first).
    """
    ids = [i for i in dict.fromkeys(external_ids) if i]
    if not ids:
        return None
    found = {
        m.external_id: m.ticket
        for m in Message.objects.select_related("ticket").filter(channel=channel, external_id__in=ids[:200])
    }
    return next((found[i] for i in ids if i in found), None)


def add_system_note(
    ticket: Ticket,
    body: str,
    *,
    kind: str,
    flag: dict[str, str] | None = None,
    **data: Any,
) -> Message:
    """An internal note written by the system (a dropped attachment, an undeliverable reply),
    with its event and optionally a flag agents see on the ticket. The text may quote
    customer input (a file name), so it passes the shield like any inbound text."""
    screened = screening.screen(_clean_text(body, field="body", limit=MAX_BODY))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        message = Message.objects.create(
            ticket=ticket,
            visibility=Visibility.INTERNAL,
            author_role=AuthorRole.SYSTEM,
            channel=Channel.WEB,
            body=screened.text,
            created_at=now,
        )
        if flag is not None and flag not in ticket.flags:
            ticket.flags = [*ticket.flags, flag]
            ticket.save(update_fields=["flags"])
        _event(ticket, kind, **data)
    return message


def link_contact_to_user(user: Any) -> int:
    """After a user verifies their email, the contact proven for that address (by a confirmed
    link, authenticated mail or a vouching app) becomes theirs. Claims are never linked: a
    ticket someone filed by typing the address joins the account only when its owner confirms
    it (`confirm_claim`). Returns how many contacts were linked (0 or 1)."""
    email = (user.email or "").strip().lower()
    if not email or _verified_owners([email]).get(email) != user.pk:
        return 0
    with transaction.atomic():
        if Contact.objects.filter(user=user).exists():
            return 0
        return Contact.objects.filter(email=email, user__isnull=True).exclude(proof="").update(user=user)


def confirm_claim(ticket: Ticket, *, email: str, user: Any = None) -> Ticket:
    """The owner of `email` confirmed that this request, filed by someone who typed the
    address, is theirs: the ticket moves from the claim contact to the proven one.

    Proof is either the signed link sent to the address (`user` None) or a signed-in account
    that verified the address. The proven contact is the account's when an account verified
    the address. Refused if the ticket is no longer a claim of this address (already
    confirmed: a link works once).
    """
    email = email.strip().lower()
    # Signed in as someone who did not verify this address: the link, not the session, is the proof.
    signed_in = email in verified_addresses(user)
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        claim = Contact.objects.get(pk=ticket.contact_id)
        if claim.proof or claim.email != email:
            raise TicketError("not_a_claim", _("This request has already been confirmed."))
        now = timezone.now()
        target = _account_contact(user, claim.language) if signed_in else _proven_for_link(email, claim, now)
        ticket.contact = target
        ticket.updated_at = now
        ticket.save(update_fields=["contact", "updated_at"])
        Message.objects.filter(ticket=ticket, author_contact_id=claim.pk).update(author_contact=target)
        _event(
            ticket,
            "identity_confirmed",
            user if signed_in else None,
            how=Proof.SIGNED_IN if signed_in else Proof.LINK,
            at=now.isoformat(),
        )
    return ticket


def _proven_for_link(email: str, claim: Contact, now: Any) -> Contact:
    proven = Contact.objects.filter(email=email).exclude(proof="").first()
    if proven is not None:
        return proven
    owner = _verified_owners([email]).get(email)
    if owner is not None:
        account = Contact.objects.filter(user_id=owner).first()
        if account is not None:
            return account
    return Contact.objects.create(
        email=email,
        name=claim.name,
        language=claim.language,
        user_id=owner,
        proof=Proof.LINK,
        proven_at=now,
    )


__all__ = [
    "DuplicateMessage",
    "NewTicket",
    "NotAllowed",
    "TicketError",
    "add_agent_message",
    "add_customer_message",
    "add_system_note",
    "assign",
    "change_priority",
    "change_status",
    "close_by_customer",
    "confirm_claim",
    "create_ticket",
    "find_ticket_by_message_ids",
    "link_contact_to_user",
    "merge",
    "set_team",
    "update_facts",
]


def import_phishing_list(
    source: str,
    *,
    blocklist: Iterable[str] = (),
    allowlist: Iterable[str] = (),
    fuzzylist: Iterable[str] = (),
) -> dict[str, int]:
    """Replace everything imported from `source` with these domains, in one transaction."""
    from walletdesk.registry import lookups as registry
    from walletdesk.registry.models import PhishingDomain

    if not source.strip():
        raise TicketError("required", _("Name the list's source."), field="source")
    rows = {
        (domain.strip().lower().rstrip("."), list_type)
        for list_type, domains in (("block", blocklist), ("allow", allowlist), ("fuzzy", fuzzylist))
        for domain in domains
        if domain.strip()
    }
    counts = {t: sum(1 for _, lt in rows if lt == t) for t in ("block", "allow", "fuzzy")}
    with transaction.atomic():
        PhishingDomain.objects.filter(source=source).delete()
        # Another source may already list a domain; the unique pair keeps one row for both.
        PhishingDomain.objects.bulk_create(
            [PhishingDomain(domain=d, list_type=t, source=source) for d, t in sorted(rows)],
            ignore_conflicts=True,
            batch_size=1000,
        )
        audit.record("phishing_list.imported", target_type="phishing_list", target_id=source, counts=counts)
    registry.forget()
    return counts
