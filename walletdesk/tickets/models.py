"""Tickets and everything a ticket carries.

Nothing here writes itself: every change goes through `walletdesk.tickets.actions`, which
validates, writes in one transaction and records a `TicketEvent`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from walletdesk.core.hant import shown
from walletdesk.tickets import wording


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Waiting on customer")  # agent-facing; customers read tickets.statuses
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    INAPP = "inapp", _("In-app")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    WECHAT = "wechat", _("WeChat")
    WEIBO = "weibo", _("Weibo")
    X = "x", _("X")
    TELEGRAM = "telegram", _("Telegram")
    PHONE = "phone", _("Phone")


class Fact(models.TextChoices):
    """The structured facts a request form can ask for; each is a column on Ticket."""

    ACCOUNT = "account", _("Account ID or email")
    WALLET_ADDRESS = "wallet_address", _("Wallet address")
    CHAIN = "chain", _("Chain / network")
    TX_HASH = "tx_hash", _("Transaction hash")
    ERROR_CODE = "error_code", _("Error code or message")
    DEVICE = "device", _("Device model")
    OS = "os", _("Operating system")
    APP_VERSION = "app_version", _("App version")


FACT_FIELDS = tuple(Fact.values)


class Team(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(unique=True)
    members = models.ManyToManyField(django_settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    lead = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A restricted team's tickets are visible only to its members (and admins); e.g. the
    # security desk handling stolen accounts. Unrestricted teams share tickets with all agents.
    restricted = models.BooleanField(_("restricted"), default=False)

    def __str__(self) -> str:
        # The shipped teams in the reader's language (select options, inbox, history).
        return wording.team_name(self.name)


class Category(models.Model):
    slug = models.SlugField(unique=True)
    name_en = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    help_en = models.CharField(max_length=300, blank=True)
    help_zh = models.CharField(max_length=300, blank=True)
    required_facts = models.JSONField(default=list, blank=True, help_text="Fact names the form requires.")
    optional_facts = models.JSONField(default=list, blank=True, help_text="Fact names the form offers.")
    default_priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    default_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return shown(self.name_zh) if (get_language() or "").startswith("zh") else self.name_en

    @property
    def help(self) -> str:
        return shown(self.help_zh) if (get_language() or "").startswith("zh") else self.help_en

    @property
    def facts(self) -> list[str]:
        return [*self.required_facts, *(f for f in self.optional_facts if f not in self.required_facts)]


class Proof(models.TextChoices):
    """How the person behind a contact proved the email address (or account) it carries.

    A typed address is only a claim: until it is proven, the contact has no account, its
    tickets are not the account's, and the desk offers no account action on them.
    """

    NONE = "", _("email not confirmed")
    SIGNED_IN = "signin", _("signed in")
    LINK = "link", _("confirmed by link")
    APP = "app", _("vouched by app")
    MAIL = "mail", _("authenticated mail")


class Contact(models.Model):
    """The person a ticket is for, however they reached us.

    Two kinds share this table:

    - A *proven* contact (`proof` set): the address is known to be the person's (they signed
      in, confirmed a link sent to it, sent authenticated mail, or an app that vouches for its
      users' emails said so). At most one per address; if an account owns the address,
      `user` points at it and "My requests" shows its tickets.
    - A *claim* (`proof` empty): someone typed the address. Guests who type the same address
      share one claim contact (`claim_key`), which never has a user; an app user who is not
      vouched for gets a claim contact of their own, found by their app id. Confirming the
      link sent to the address moves a ticket from the claim to the proven contact.
    """

    email = models.EmailField(null=True, blank=True)
    # The typed address of a guests' claim contact: one claim contact per address (what the
    # hot path's INSERT … ON CONFLICT lands on). NULL for every other contact.
    claim_key = models.CharField(max_length=254, null=True, blank=True, unique=True, editable=False)
    name = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=10, blank=True)
    user = models.OneToOneField(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    proof = models.CharField(_("identity proof"), max_length=8, choices=Proof.choices, default="", blank=True)
    proven_at = models.DateTimeField(null=True, blank=True)
    # Who proved it, for the desk: the app's name, the mail's DKIM domain or trusted server.
    proven_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One proven contact per address; claims may repeat it (a guest and an app user).
            models.UniqueConstraint(fields=["email"], condition=~Q(proof=""), name="uniq_proven_email"),
            # A claim never carries an account: that is the whole point.
            models.CheckConstraint(
                condition=~Q(proof="") | Q(user__isnull=True), name="claim_has_no_account"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"contact #{self.pk}"

    @property
    def proven(self) -> bool:
        return bool(self.proof)


class ContactIdentity(models.Model):
    """An id a channel knows the contact by (in-app user id, WeChat openid, Telegram id…)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    external_id = models.CharField(max_length=200)
    # The app whose backend vouched for this user's email when the id was first seen (its
    # name); empty when the id alone identifies them and their email is only a claim.
    vouched_by = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="uniq_identity_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


# What the inbox sorts a ticket with nothing due by (paused, answered, done): after every real
# due time. A value, not NULL, so one ascending index order serves both databases (SQLite puts
# NULLs first, PostgreSQL last).
NEVER_DUE = datetime(9999, 1, 1, tzinfo=UTC)
# The columns `inbox_due` is worked out from: a save() that writes any of them writes it too.
INBOX_DUE_INPUTS = frozenset({"status", "first_replied_at", "first_reply_due", "next_reply_due", "inbox_due"})
_PAUSED_STATUSES = (Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED)


def inbox_due_of(ticket: Ticket) -> datetime:
    """The due time the inbox sorts by: the first reply's until there is one, then the next
    reply's; NEVER_DUE while paused or with nothing due. `tickets.inbox` orders by it."""
    if ticket.status in _PAUSED_STATUSES:
        return NEVER_DUE
    due = ticket.first_reply_due if ticket.first_replied_at is None else ticket.next_reply_due
    return due or NEVER_DUE


class InboxDueField(models.DateTimeField):
    """A column the model works out for itself on every write (`inbox_due_of`), on the
    ORM's save() and on the hot path's plain INSERT (`core.rows`, which calls pre_save too):
    a stored value an index can serve, where the inbox used to sort by a CASE expression."""

    def pre_save(self, model_instance: models.Model, add: bool) -> datetime:
        value = inbox_due_of(model_instance)  # type: ignore[arg-type]
        setattr(model_instance, self.attname, value)
        return value


class Ticket(models.Model):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT)
    language = models.CharField(max_length=10, default="en")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", db_index=False
    )

    account = models.CharField(_("account ID or email"), max_length=200, blank=True)
    wallet_address = models.CharField(_("wallet address"), max_length=128, blank=True)
    chain = models.CharField(_("chain / network"), max_length=40, blank=True)
    # Not indexed: search by hash or address reads search_text's full-text index, where
    # creation writes the facts as whole tokens (tickets/identifiers.py), so the hot table
    # gets no index of its own for them.
    tx_hash = models.CharField(_("transaction hash"), max_length=128, blank=True)
    error_code = models.CharField(_("error code or message"), max_length=200, blank=True)
    device = models.CharField(_("device model"), max_length=100, blank=True)
    os = models.CharField(_("operating system"), max_length=60, blank=True)
    app_version = models.CharField(_("app version"), max_length=40, blank=True)

    tags = models.JSONField(default=list, blank=True)
    # Why the shield or triage raised a flag, for the agent: [{"code": ..., "reason": ...}].
    flags = models.JSONField(default=list, blank=True)
    triage = models.JSONField(default=dict, blank=True)

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups", db_index=False
    )

    # Indexed by `ticket_period_idx`, which leads with it.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_replied_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Not indexed: the inbox sorts by `inbox_due`, worked out from these; timers live in SlaCheck.
    first_reply_due = models.DateTimeField(null=True, blank=True)
    next_reply_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    # The SLA clock (walletdesk.sla.clock): the policy in force, when the current pause
    # began (pending / on hold / solved), the closed pauses as [[start, end], ...] ISO strings,
    # and since when a customer message has been waiting for the next reply.
    # No index: only deleting a policy looks tickets up by it (a rare admin action that may
    # scan), while every new ticket would write one.
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_pauses = models.JSONField(default=list, blank=True)
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)  # last "follow up" press
    # The sort key of the inbox's due-time order, kept by the model (InboxDueField, save()).
    inbox_due = InboxDueField(default=NEVER_DUE, editable=False)
    # The agent whose public reply set first_replied_at: the reports' per-agent first-reply
    # figures read it instead of looking up every ticket's first agent message. No index: only
    # the reports read it, over a period's rows.
    first_replied_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        editable=False,
    )

    # jieba-segmented subject + public and internal message text, for full-text search.
    search_text = models.TextField(blank=True, editable=False)
    # How many times the row was written: 1 when created, +1 in every UPDATE of it (see save()).
    # A page or an API client sends back the version it read; an action refuses a change made
    # from an older one (`actions.StaleTicket`). The ETag of the ticket API.
    version = models.IntegerField(default=1, editable=False)

    # Not a column: set by the SLA clock (walletdesk.sla.hooks.on_created) so the new ticket's
    # first timer is armed right after the insert gives it a primary key (hooks.after_insert).
    _sla_schedule_after_insert: bool = False
    _sla_first_check: tuple[str, datetime, datetime] | None = None

    class Meta:
        # A foreign key that leads one of these composite indexes gets no index of its own
        # (db_index=False above): every index is written on every new ticket.
        indexes = [
            # The inbox's order (due time, then id) over active tickets only: a new ticket
            # writes it, a solved one leaves it, so its size follows the backlog, not the
            # history. The trailing columns are what the view counts (`inbox.counts`) and the
            # reports' backlog by age read, so both are index-only scans on both databases
            # (SQLite has no INCLUDE).
            models.Index(
                fields=["inbox_due", "id", "priority", "assignee", "team", "created_at"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="ticket_due_idx",
            ),
            # Tickets created in a period (the reports, newest-first lists), carrying every
            # column the reports aggregate: each figure is an index-only read of the period's
            # entries, not of its rows (search_text makes a row about a kilobyte). It replaces
            # the plain created_at index, so a new ticket writes no more indexes than before.
            models.Index(
                fields=[
                    "created_at",
                    "channel",
                    "category",
                    "team",
                    "assignee",
                    "status",
                    "first_replied_at",
                    "first_replied_by",
                    "solved_at",
                    "first_reply_due",
                    "resolution_due",
                ],
                name="ticket_period_idx",
            ),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["team", "status"], name="ticket_team_idx"),
            models.Index(fields=["contact", "created_at"], name="ticket_contact_idx"),
            # Almost every ticket has neither: index only the ones that do.
            models.Index(
                fields=["merged_into"], condition=Q(merged_into__isnull=False), name="ticket_merged_idx"
            ),
            models.Index(
                fields=["follow_up_of"], condition=Q(follow_up_of__isnull=False), name="ticket_follow_up_idx"
            ),
        ]
        permissions = [("view_all_tickets", "Can see tickets of every team")]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Every UPDATE of an existing ticket also moves its version up by one, in the same
        statement. Actions write a ticket they read under its row lock (`lock_rows`), so the
        increment computed here cannot be lost to a concurrent writer."""
        fields = kwargs.get("update_fields")
        if fields is not None and INBOX_DUE_INPUTS.intersection(fields):
            fields = kwargs["update_fields"] = list(dict.fromkeys([*fields, "inbox_due"]))
        if self._state.adding or kwargs.get("force_insert") or (fields is not None and not fields):
            super().save(*args, **kwargs)
            return
        if fields is not None:
            if "version" in fields:  # the caller sets it
                super().save(*args, **kwargs)
                return
            kwargs["update_fields"] = [*fields, "version"]
        self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) for each fact that is filled in, in form order."""
        return [(str(Fact(name).label), getattr(self, name)) for name in FACT_FIELDS if getattr(self, name)]


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    INTERNAL = "internal", _("Internal note")


class AuthorRole(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    author_role = models.CharField(max_length=10, choices=AuthorRole.choices)
    author_user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # The provider's id for this message (email Message-ID, WeChat MsgId, in-app message id):
    # a redelivered message finds its twin here instead of being stored twice.
    external_id = models.CharField(max_length=255, null=True, blank=True)
    body = models.TextField()  # already passed through the shield: secrets are placeholders
    body_html = models.TextField(blank=True)  # sanitised with nh3 before it is stored
    created_at = models.DateTimeField(default=timezone.now)
    # A live chat's public messages are numbered 1, 2, 3... per ticket, under the ticket's row
    # lock: a reconnecting chat client asks for what follows the last number it has (see
    # docs/chat-protocol.md). Other channels leave it empty.
    seq = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "seq"], condition=Q(seq__isnull=False), name="uniq_message_seq_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="uniq_message_external_id_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
            models.Index(
                fields=["author_user"], condition=Q(author_user__isnull=False), name="message_author_user_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is the content hash, never the user's file name: no path tricks, no
    # collisions, and the same file uploaded twice is stored once per ticket.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """One line of a ticket's history: who changed what, and when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_idx"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="event_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class TriageRuleRecord(models.Model):
    """An admin-editable triage rule; `walletdesk.tickets.triage` applies them as plain data."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, to_field="slug", db_column="category_slug"
    )
    keywords = models.TextField(help_text="One keyword per line; prefix with re: for a regular expression.")
    weight = models.FloatField(default=1.0)
    language = models.CharField(
        max_length=10, blank=True, choices=[("", "any"), ("zh", "Chinese"), ("en", "English")]
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    negatable = models.BooleanField(
        default=False, help_text="Ignore a keyword right after a negation (没有被盗, wasn't hacked)."
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "triage rule"

    def __str__(self) -> str:
        return f"{self.category_id}: {self.keywords.splitlines()[0] if self.keywords else ''}"


# --- SLA, routing and automation (issue 6) ------------------------------------------------------


class Assignment(models.TextChoices):
    NONE = "none", _("Leave unassigned")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_OPEN = "least_open", _("Fewest open tickets")


def _default_weekly_hours() -> dict[str, list[list[str]]]:
    return {str(day): [["09:00", "18:00"]] for day in range(5)}


def _default_countries() -> list[str]:
    return ["CN"]


class TeamSettings(models.Model):
    """A team's business hours (its SLA calendar) and how new tickets are assigned in it."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="settings")
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    weekly_hours = models.JSONField(
        _("weekly hours"),
        default=_default_weekly_hours,
        help_text='{"0": [["09:00", "18:00"]], ...}: weekday 0 = Monday; missing days are closed.',
    )
    holiday_countries = models.JSONField(
        _("public holidays of"), default=_default_countries, blank=True, help_text='e.g. ["CN", "HK"]'
    )
    days_off = models.JSONField(_("custom days off"), default=list, blank=True, help_text='["2026-12-24"]')
    assignment = models.CharField(
        _("assignment"), max_length=16, choices=Assignment.choices, default=Assignment.NONE
    )
    last_assigned = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("team settings")
        verbose_name_plural = _("team settings")

    def __str__(self) -> str:
        return f"{self.team}"


class RoutingRule(models.Model):
    """New tickets matching every filled-in condition go to `team` (first rule by position)."""

    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    language = models.CharField(
        max_length=10, blank=True, choices=[("", "any"), ("zh", "Chinese"), ("en", "English")]
    )
    keywords = models.TextField(blank=True, help_text=_("One per line; any one matching is enough."))
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("routing rule")

    def __str__(self) -> str:
        return self.name


class SolvedTicketVector(models.Model):
    """A solved ticket's question and final public answer, with their dense vector, for the
    desk's "similar solved tickets" panel (walletdesk.tickets.similar).

    Written only by the task `tickets.tasks.embed_solved_ticket` (actions.embed_solved_ticket):
    the texts are the stored, shield-redacted message bodies; internal notes never. A reopened
    or merged ticket loses its row.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="+")
    question = models.TextField()  # subject + the customer's first public message
    answer = models.TextField()  # the last public agent reply
    content_hash = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    vector = models.BinaryField()  # float16, walletdesk.kb.dense.DIM values
    embedded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.ticket_id}"
