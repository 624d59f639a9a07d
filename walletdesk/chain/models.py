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


# uint256 fits in 78 decimal digits; a bigint does not hold token amounts.
def _uint256() -> models.DecimalField:
    return models.DecimalField(max_digits=78, decimal_places=0, default=0)


class ChainCursor(models.Model):
    """Where the monitor is on one chain: the last processed block (number and hash), and the
    lease of the worker following it (two workers never process the same chain at once)."""

    chain = models.OneToOneField(Chain, on_delete=models.CASCADE, related_name="cursor")
    block_number = models.BigIntegerField(default=-1, help_text="-1: not started (starts at the head).")
    block_hash = models.CharField(max_length=66, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.CharField(max_length=40, blank=True, help_text="The armed follow_chain run.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.chain_id}@{self.block_number}"


class SeenBlock(models.Model):
    """A recent block's hash and parent, to find the common ancestor after a reorg."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="+")
    number = models.BigIntegerField()
    hash = models.CharField(max_length=66)
    parent_hash = models.CharField(max_length=66)
    timestamp = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "number"], name="uniq_seen_block")]

    def __str__(self) -> str:
        return f"{self.chain_id}#{self.number}"


class ChainEvent(models.Model):
    """One stored transfer or approval touching a linked address.

    Unique on (chain, tx hash, log index, part): `part` numbers the items of one ERC-1155
    TransferBatch log (0 for every other log); a native transfer has log index -1.
    """

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "transfer"
        APPROVAL = "approval", "approval"
        APPROVAL_FOR_ALL = "approval_for_all", "approval for all"

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="events")
    tx_hash = models.CharField(max_length=66)
    log_index = models.IntegerField()
    part = models.PositiveSmallIntegerField(default=0)
    block_number = models.BigIntegerField()
    block_hash = models.CharField(max_length=66)
    timestamp = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    standard = models.CharField(max_length=10)
    token = models.CharField(max_length=42, blank=True)
    token_id = models.DecimalField(max_digits=78, decimal_places=0, null=True, blank=True)
    sender = models.CharField(max_length=42, db_index=True)
    recipient = models.CharField(max_length=42, db_index=True)
    value = _uint256()
    approved = models.BooleanField(default=True)

    class Meta:
        ordering = ["-block_number", "-log_index"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "tx_hash", "log_index", "part"], name="uniq_chain_event")
        ]
        indexes = [models.Index(fields=["chain", "block_number"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.tx_hash}#{self.log_index}"


class ChainToken(models.Model):
    """An ERC-20 token's symbol and decimals as its contract answered (`lookup.token_info`),
    stored by the monitor the first time an event of that token is stored, so the activity page
    shows 1 USDT rather than 1000000 without asking the node while it renders. `decimals` is
    null when the contract did not answer a sane one: the page then shows the raw units. Any
    token may lie about its symbol, so the page always shows the address beside it."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="tokens")
    address = models.CharField(max_length=42, help_text="Lower case.")
    symbol = models.CharField(max_length=16, blank=True)
    decimals = models.PositiveSmallIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "address"], name="uniq_chain_token")]

    def __str__(self) -> str:
        return f"{self.symbol or '?'} {self.address}"


class ChainAlert(models.Model):
    """A rule's finding about a linked address: fires once per (chain, rule, tx hash, log
    index, address), whatever happens to the block it came from (a reorg that re-includes the
    same transaction, a worker killed between storing and alerting)."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(max_length=40)
    tx_hash = models.CharField(max_length=66)
    log_index = models.IntegerField()
    address = models.CharField(max_length=42, db_index=True)
    severity = models.CharField(max_length=10)
    params = models.JSONField(default=dict)
    block_number = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "rule", "tx_hash", "log_index", "address"], name="uniq_chain_alert"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.tx_hash}#{self.log_index}"
