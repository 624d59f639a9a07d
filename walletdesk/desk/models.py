"""What only the desk uses: canned replies."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from walletdesk.tickets.models import Category, Priority, Status, Team


class Macro(models.Model):
    """A canned reply in both languages, with placeholders and optional field changes.

    Placeholders: {customer_name}, {reference}, {agent_name}, {article:slug} (a help-centre link).
    """

    name = models.CharField(_("name"), max_length=100)
    body_en = models.TextField()
    body_zh = models.TextField()
    set_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    set_priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    set_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The ticket categories the reply is written for: the picker offers these first on such a
    # ticket and puts them behind the others' elsewhere. None: fits any ticket.
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="+",
        verbose_name=_("categories"),
        help_text=_(
            "Offered first on tickets of these categories. Leave empty for a reply that fits any ticket."
        ),
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "tickets_macro"  # created by the tickets app; the table kept its name
        ordering = ["position", "name"]
        verbose_name = _("macro")

    def __str__(self) -> str:
        return self.name
