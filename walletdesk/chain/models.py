"""The chains the operator configures, and what we learn from them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from walletdesk.chain import rules


def _check_rpc_urls(value: str) -> None:
    urls = [line.strip() for line in value.splitlines() if line.strip()]
    if not urls:
        raise ValidationError("Give at least one JSON-RPC URL.")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValidationError(f"Not an http(s) URL: {url[:80]}")


class Chain(models.Model):
    """One EVM chain: where to ask (JSON-RPC URLs, tried in order) and where to link (explorer)."""

    name = models.CharField(max_length=60)
    chain_id = models.PositiveBigIntegerField(unique=True, help_text="EIP-155 chain id, e.g. 1 for Ethereum.")
    rpc_urls = models.TextField(
        validators=[_check_rpc_urls],
        help_text="One JSON-RPC URL per line; the next is tried when one fails.",
    )
    explorer_tx_url = models.CharField(
        max_length=200,
        blank=True,
        help_text="Link to a transaction, with {hash}, e.g. https://etherscan.io/tx/{hash}",
    )
    explorer_address_url = models.CharField(
        max_length=200,
        blank=True,
        help_text="Link to an address, with {address}, e.g. https://etherscan.io/address/{address}",
    )
    native_symbol = models.CharField(max_length=12, default="ETH")
    confirmations = models.PositiveSmallIntegerField(
        default=12,
        help_text="Blocks after which a transaction counts as final (and a reorg can no longer undo it).",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["chain_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.chain_id})"

    @property
    def urls(self) -> list[str]:
        return [line.strip() for line in self.rpc_urls.splitlines() if line.strip()]


class RiskRule(models.Model):
    """One risk rule's switch, severity and thresholds, tuned by the operator in the admin.

    The logic lives in `chain.rules` (pure); this row only holds what the operator may change.
    Migration 0002 seeds one row per rule with `rules.DEFAULTS`.
    """

    class Severity(models.TextChoices):
        LOW = "low", "low"
        MEDIUM = "medium", "medium"
        HIGH = "high", "high"
        CRITICAL = "critical", "critical"

    code = models.SlugField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    params = models.JSONField(
        default=dict, blank=True, help_text="Thresholds; a missing key uses the default."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if not isinstance(self.params, dict):
            raise ValidationError({"params": "Give an object of parameter names to whole numbers."})
        problems = rules.check_params(self.code, self.params)
        if problems:
            raise ValidationError({"params": "; ".join(problems)})


def _check_evm_address(value: str) -> None:
    if not rules.is_address(value.strip()):
        raise ValidationError("0x and 40 hex characters.")


class VerifiedSpender(models.Model):
    """A spender an unlimited approval to is normal (a known router or marketplace).

    The operator's allow list for the unlimited-approval rule; stored lower case.
    """

    address = models.CharField(max_length=42, unique=True, validators=[_check_evm_address])
    label = models.CharField(max_length=80, help_text="What it is, e.g. Uniswap Universal Router.")

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.address})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class LinkChallenge(models.Model):
    """A one-time message a customer signs to prove they hold an address's key (EIP-191).

    The server keeps the exact text it asked to have signed; the signature is checked against
    that text, never against anything the browser sends back. `used_at` makes it single use.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=42, help_text="Lower case.")
    nonce = models.CharField(max_length=32, unique=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"link {self.address} for user {self.user_id}"


class LinkedAddress(models.Model):
    """An address a customer proved they control; the monitor watches it on every enabled chain.

    The same address may be linked by two customers (each with their own signature): a shared
    wallet is real, and refusing the second would let a thief who holds the key link it first
    and lock the owner out of alerts. The chain data shown is public either way.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="linked_addresses"
    )
    address = models.CharField(max_length=42, db_index=True, help_text="Lower case.")
    label = models.CharField(max_length=60, blank=True)
    challenge = models.OneToOneField(LinkChallenge, on_delete=models.PROTECT, related_name="linked")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="uniq_linked_address_per_user")
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def checksum(self) -> str:
        return rules.checksum(self.address)
