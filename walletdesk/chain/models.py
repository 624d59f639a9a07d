"""The chains the operator configures, and what we learn from them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


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
