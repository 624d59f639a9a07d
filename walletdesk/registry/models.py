"""The public registry of official contacts, and the imported phishing-domain lists."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class OfficialContact(models.Model):
    """One entry of the public registry of official contacts.

    The contact page is rendered from these rows, and the shield's verifier compares what a
    user shows us ("is this support account real?") against them.
    """

    class Kind(models.TextChoices):
        DOMAIN = "domain", _("Website")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")
        WEIBO = "weibo", _("Weibo")
        X = "x", _("X (Twitter)")
        TELEGRAM = "telegram", _("Telegram")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(
        max_length=200, help_text="Domain, address, number or handle, e.g. token.im, @imToken."
    )
    label_en = models.CharField(max_length=120)
    label_zh = models.CharField(max_length=120)
    url = models.URLField(blank=True)
    current = models.BooleanField(default=True, help_text="Former official contacts stay listed as retired.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "tickets_officialcontact"  # created by the tickets app; the table kept its name
        ordering = ["position", "kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="uniq_official_contact")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") else self.label_en


class PhishingDomain(models.Model):
    """A domain from an imported community list (MetaMask eth-phishing-detect, plain lists).

    Blocklisted and fuzzy-listed domains count as impersonation; allowlisted ones are never
    flagged, whatever they look like.
    """

    class ListType(models.TextChoices):
        BLOCK = "block", "blocklist"
        ALLOW = "allow", "allowlist"
        FUZZY = "fuzzy", "fuzzylist"

    domain = models.CharField(max_length=253)
    list_type = models.CharField(max_length=5, choices=ListType.choices)
    source = models.CharField(max_length=80)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tickets_phishingdomain"  # created by the tickets app; the table kept its name
        constraints = [models.UniqueConstraint(fields=["domain", "list_type"], name="uniq_phishing_domain")]
        indexes = [models.Index(fields=["source"], name="phishing_source_idx")]

    def __str__(self) -> str:
        return f"{self.list_type}: {self.domain}"
