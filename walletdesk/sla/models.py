"""Reply-time promises: policies, the timers that watch them, escalation rules, surveys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from walletdesk.tickets.models import Category, Channel, Priority, Team, Ticket


class SlaPolicy(models.Model):
    """Reply-time targets for one priority, optionally only for a category and/or channel.

    The most specific active policy wins (category and channel, then category, then channel,
    then the general one); `position` breaks ties.
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    first_reply_minutes = models.PositiveIntegerField(_("first reply (minutes)"))
    next_reply_minutes = models.PositiveIntegerField(_("next reply (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)
    around_the_clock = models.BooleanField(
        _("24/7"), default=False, help_text=_("Count calendar time, not the team's business hours.")
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "tickets_slapolicy"  # created by the tickets app; the table kept its name
        ordering = ["position", "pk"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaCheck(models.Model):
    """One timer: "look at this ticket at `run_at`". The worker claims it exactly once.

    `due_at` is the due time (or, for follow-ups, the moment the ticket became pending) the
    timer was set for: if the ticket's clock has moved since, the check is stale and does nothing.
    """

    class Kind(models.TextChoices):
        FIRST_REPLY_WARN = "first_reply_warn"
        FIRST_REPLY_BREACH = "first_reply_breach"
        NEXT_REPLY_WARN = "next_reply_warn"
        NEXT_REPLY_BREACH = "next_reply_breach"
        RESOLUTION_WARN = "resolution_warn"
        RESOLUTION_BREACH = "resolution_breach"
        PENDING_REMINDER = "pending_reminder"
        PENDING_AUTOSOLVE = "pending_autosolve"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_checks", db_index=False)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    due_at = models.DateTimeField()
    run_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        db_table = "tickets_slacheck"  # created by the tickets app; the table kept its name
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "due_at"], name="uniq_sla_check"),
        ]
        indexes = [models.Index(fields=["claimed_at", "run_at"], name="sla_check_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.ticket_id} @ {self.run_at:%Y-%m-%d %H:%M}"


class EscalationRule(models.Model):
    """What happens when a ticket breaches its SLA. Every matching active rule applies."""

    class Clock(models.TextChoices):
        ANY = "any", _("Any clock")
        FIRST_REPLY = "first_reply", _("First reply")
        NEXT_REPLY = "next_reply", _("Next reply")
        RESOLUTION = "resolution", _("Resolution")

    class Action(models.TextChoices):
        NOTIFY_LEAD = "notify_lead", _("Notify the team lead")
        RAISE_PRIORITY = "raise_priority", _("Raise the priority one step")
        REASSIGN = "reassign", _("Reassign")

    name = models.CharField(_("name"), max_length=100)
    clock = models.CharField(max_length=16, choices=Clock.choices, default=Clock.ANY)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    move_to_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "tickets_escalationrule"  # created by the tickets app; the table kept its name
        ordering = ["position", "pk"]
        verbose_name = _("escalation rule")

    def __str__(self) -> str:
        return self.name


class CsatSurvey(models.Model):
    """One satisfaction survey, sent when a ticket is solved."""

    class Rating(models.TextChoices):
        GOOD = "good", _("Good, I'm satisfied")
        BAD = "bad", _("Bad, I'm unsatisfied")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    sent_at = models.DateTimeField(default=timezone.now)
    rating = models.CharField(max_length=4, choices=Rating.choices, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = "tickets_csatsurvey"  # created by the tickets app; the table kept its name
        indexes = [models.Index(fields=["sent_at"], name="csat_sent_idx")]

    def __str__(self) -> str:
        return f"survey {self.pk} for {self.ticket_id}"
