"""The public registry of official contacts, and the imported phishing-domain lists."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from walletdesk import shield


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


# Names people know the common EVM chains by, for the contact page (the chain app holds the
# configured chains, but the registry sits below it); any other id is shown as a number.
KNOWN_CHAINS = {
    1: "Ethereum", 10: "OP Mainnet", 56: "BNB Chain", 137: "Polygon", 8453: "Base", 42161: "Arbitrum One",
    43114: "Avalanche C-Chain", 324: "zkSync Era", 59144: "Linea",
}  # fmt: skip


class OfficialAddress(models.Model):
    """An address the operator publishes as its own: a deposit address or a contract.

    Its own model rather than another ``OfficialContact.Kind``: an address is not a way to
    reach support (the contact page says support never asks anyone to send crypto), it has a
    chain and a purpose, and it is compared normalised (lower case) and for lookalikes, which
    no contact kind needs. Stored lower case; EIP-55 capitals are display only.
    """

    class Purpose(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit address")
        CONTRACT = "contract", _("Contract")

    address = models.CharField(max_length=42, help_text="0x and 40 hex characters; stored in lower case.")
    # The EVM chain id (1 Ethereum, 56 BNB Chain …); empty for "any EVM chain". An id, not a
    # link to walletdesk.chain's Chain: the registry sits below chain and never imports it.
    chain_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Empty: any EVM chain.")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.CONTRACT)
    label_en = models.CharField(max_length=120)
    label_zh = models.CharField(max_length=120)
    current = models.BooleanField(default=True, help_text="A retired address is no longer official.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "address"]
        constraints = [
            models.UniqueConstraint(fields=["address", "chain_id"], name="uniq_official_address"),
            models.CheckConstraint(
                condition=models.Q(address__regex=r"^0x[0-9a-f]{40}$"), name="official_address_lower_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label_en}: {self.address}"

    @property
    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") else self.label_en

    @property
    def chain_name(self) -> str:
        if self.chain_id is None:
            return str(_("Any EVM chain"))
        return KNOWN_CHAINS.get(self.chain_id) or str(_("Chain %(id)s") % {"id": self.chain_id})

    @property
    def shown(self) -> str:
        """EIP-55 capitals, as wallets and explorers show it."""
        return shield.checksummed(self.address)

    def clean(self) -> None:
        problem = shield.evm_address_problem(self.address.strip())
        if problem is not None:
            raise ValidationError({"address": shield.render_reasons([shield.Reason(problem)])})
        self.address = self.address.strip().lower()


class AddressList(models.Model):
    """A named list of scam addresses, imported by `manage import_address_list` (one per source)."""

    source = models.CharField(max_length=80, unique=True)
    imported_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField(default=0, help_text="Distinct addresses on the list.")

    class Meta:
        ordering = ["source"]

    def __str__(self) -> str:
        return f"{self.source} ({self.count})"


class ListedAddress(models.Model):
    """One address of an imported list; lower case, so a look-up is one indexed equality."""

    address_list = models.ForeignKey(AddressList, on_delete=models.CASCADE, related_name="addresses")
    address = models.CharField(max_length=42)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address_list", "address"], name="uniq_listed_address")
        ]
        indexes = [models.Index(fields=["address"], name="listed_address_idx")]

    def __str__(self) -> str:
        return self.address
