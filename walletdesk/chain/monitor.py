"""Following a chain for the linked addresses: blocks from a stored cursor, their logs and native
transfers, the rules, and the alerts, each step in one transaction with the cursor.

One step: read the head; fetch the next blocks (full transactions) after the cursor; check each
block's parent hash against the one before (the cursor's for the first); on a mismatch walk back
through the recent block hashes (`SeenBlock`) to the common ancestor, delete the events above it
and return (the next step re-processes the new branch). Otherwise ask `eth_getLogs` for the
standard token events with a linked address in topic 1, 2 or 3, keep only the logs of the
blocks we fetched (same hash: a log from a block that changed meanwhile is not ours), decode
them with `lookup.decode_logs`, add plain native transfers, then in ONE transaction: store the
events (unique key, conflicts ignored), the block hashes, the rules' alerts (unique key,
conflicts ignored) and the new cursor. A crash anywhere before the commit leaves the cursor
where it was and the step runs again; after it, everything is stored, and undelivered alerts
are found by `deliver_pending` (the delivery is idempotent on `delivered_at`).

Two workers never follow one chain at once: `claim` takes the cursor's lease with a conditional
UPDATE, and the step re-checks under a row lock that it still holds it before writing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from walletdesk.chain import actions, lookup, rpc, rules
from walletdesk.chain.models import (
    Chain,
    ChainAlert,
    ChainCursor,
    ChainEvent,
    ChainToken,
    LinkedAddress,
    RiskRule,
    SeenBlock,
    VerifiedSpender,
)
from walletdesk.registry import lookups as registry_lookups

TOPICS = [
    lookup.TRANSFER,
    lookup.APPROVAL,
    lookup.APPROVAL_FOR_ALL,
    lookup.TRANSFER_SINGLE,
    lookup.TRANSFER_BATCH,
]
KEEP_BLOCKS = 128  # recent block hashes kept for reorgs: deeper than any reorg seen on a PoS chain
HISTORY = 500  # past events per address the rules see
# New tokens asked for their symbol and decimals per step: an airdrop of a thousand spam tokens
# to a linked address must not make one step a thousand node calls (the rest wait for the next).
NEW_TOKENS_PER_STEP = 20


def lease_seconds() -> int:
    return int(getattr(settings, "CHAIN_MONITOR_LEASE_SECONDS", 60))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Step:
    blocks: int = 0
    logs: int = 0
    events: int = 0
    alerts: list[int] | None = None
    reorg_to: int | None = None
    caught_up: bool = False


def scam_listed(addresses: Iterable[str]) -> frozenset[str]:
    """Which of these (lower-case) addresses are on an imported scam list (the registry's,
    filled by `import_address_list`)."""
    return registry_lookups.scam_listed(addresses)


def rule_configs() -> dict[str, rules.RuleConfig]:
    configs = dict(rules.DEFAULTS)
    for row in RiskRule.objects.all():
        if row.code in configs:
            configs[row.code] = rules.RuleConfig(row.code, row.enabled, row.severity, dict(row.params or {}))
    return configs


# --- the lease ---------------------------------------------------------------------------------


def claim(chain_id: int, owner: str) -> bool:
    ChainCursor.objects.get_or_create(chain_id=chain_id)
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    return bool(
        ChainCursor.objects.filter(free, chain_id=chain_id).update(
            lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds())
        )
    )


def release(chain_id: int, owner: str) -> None:
    ChainCursor.objects.filter(chain_id=chain_id, lease_owner=owner).update(lease_owner="", lease_until=None)


# --- one step ----------------------------------------------------------------------------------


def _topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:].lower()


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value or 0)


def step(chain: Chain, owner: str, *, max_blocks: int = 50) -> Step:
    client = rpc.client(chain)
    cursor = ChainCursor.objects.get(chain=chain)
    head = client.block_number()
    if cursor.block_number < 0:
        start = max(0, head - int(getattr(settings, "CHAIN_MONITOR_START_BACK", 0)))
        before = client.block(start - 1) if start > 0 else None
        ChainCursor.objects.filter(pk=cursor.pk).update(
            block_number=start - 1, block_hash=(before or {}).get("hash", "")
        )
        cursor.refresh_from_db()
    first = cursor.block_number + 1
    last = min(head, first + max_blocks - 1)
    if first > last:
        return Step(caught_up=True)
    blocks: list[dict[str, Any]] = []
    parent = cursor.block_hash
    for number in range(first, last + 1):
        block = client.block(number, True)
        if block is None:
            break  # a node behind its own head: take what we have
        if parent and block["parentHash"] != parent:
            if not blocks:
                return Step(reorg_to=rewind(chain, client, owner))
            break  # the chain moved while we read: stop before the change, next step sees it
        blocks.append(block)
        parent = block["hash"]
    if not blocks:
        return Step()
    watched = sorted(set(LinkedAddress.objects.values_list("address", flat=True)))
    events, logs = _collect(client, blocks, set(watched)) if watched else ([], 0)
    tokens = _new_tokens(client, chain, events)
    alerts = _commit(chain, owner, cursor.block_number, blocks, events, watched, tokens)
    return Step(
        blocks=len(blocks),
        logs=logs,
        events=len(events),
        alerts=alerts,
        caught_up=_int(blocks[-1]["number"]) >= head,
    )


def _collect(
    client: rpc.ChainClient, blocks: list[dict[str, Any]], watched: set[str]
) -> tuple[list[ChainEvent], int]:
    hashes = {b["hash"]: b for b in blocks}
    span = {"fromBlock": blocks[0]["number"], "toBlock": blocks[-1]["number"]}
    topics = [_topic(a) for a in sorted(watched)]
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    # A linked address may stand in topic 1 (from, owner), 2 (to, spender; ERC-1155 from) or 3
    # (ERC-1155 to): three filtered queries over the span rather than every log of every block.
    for position in (1, 2, 3):
        filters: list[Any] = [TOPICS, *([None] * (position - 1)), topics]
        for log in client.logs({**span, "topics": filters}):
            if log.get("blockHash") in hashes and not log.get("removed"):
                seen[(log["transactionHash"], log["logIndex"])] = log
    events: list[ChainEvent] = []
    for log in sorted(seen.values(), key=lambda x: (_int(x["blockNumber"]), _int(x["logIndex"]))):
        block = hashes[log["blockHash"]]
        base = {
            "tx_hash": log["transactionHash"].lower(),
            "log_index": _int(log["logIndex"]),
            "block_number": _int(block["number"]),
            "block_hash": block["hash"],
            "timestamp": _int(block["timestamp"]),
        }
        transfers, approvals = lookup.decode_logs([log])
        part = 0
        for t in transfers:
            sender, recipient = t.sender.lower(), t.recipient.lower()
            if sender in watched or recipient in watched:
                value = 1 if t.standard == "erc721" else (t.amount or 0)
                events.append(
                    ChainEvent(
                        **base,
                        part=part,
                        kind=ChainEvent.Kind.TRANSFER,
                        standard=t.standard,
                        token=t.token.address.lower(),
                        token_id=t.token_id,
                        sender=sender,
                        recipient=recipient,
                        value=value,
                    )
                )
            part += 1
        for a in approvals:
            owner = a.owner.lower()
            if owner in watched:
                events.append(
                    ChainEvent(
                        **base,
                        part=part,
                        kind=ChainEvent.Kind.APPROVAL_FOR_ALL
                        if a.kind == "all"
                        else ChainEvent.Kind.APPROVAL,
                        standard="erc20" if a.kind == "amount" else "nft",
                        token=a.token.address.lower(),
                        token_id=a.token_id,
                        sender=owner,
                        recipient=a.spender.lower(),
                        value=a.amount if a.kind == "amount" else 1,
                        approved=a.approved,
                    )
                )
            part += 1
    for block in blocks:
        for tx in block.get("transactions") or []:
            if not isinstance(tx, dict):
                continue
            sender, recipient = str(tx.get("from") or "").lower(), str(tx.get("to") or "").lower()
            value = _int(tx.get("value"))
            plain = tx.get("input") in ("0x", "", None)
            if (sender in watched or recipient in watched) and recipient and (value > 0 or plain):
                events.append(
                    ChainEvent(
                        tx_hash=str(tx["hash"]).lower(),
                        log_index=-1,
                        block_number=_int(block["number"]),
                        block_hash=block["hash"],
                        timestamp=_int(block["timestamp"]),
                        kind=ChainEvent.Kind.TRANSFER,
                        standard=rules.NATIVE,
                        sender=sender,
                        recipient=recipient,
                        value=value,
                    )
                )
    return events, len(seen)


def _new_tokens(client: rpc.ChainClient, chain: Chain, events: list[ChainEvent]) -> list[ChainToken]:
    """Symbol and decimals of the ERC-20 tokens of `events` not stored yet, asked before the
    write transaction (node calls never hold it open). A token the node failed on is left out
    and asked again with the next event of it; until then its amounts show as raw units."""
    wanted = {e.token for e in events if e.standard == "erc20" and e.token}
    if not wanted:
        return []
    known = set(ChainToken.objects.filter(chain=chain, address__in=wanted).values_list("address", flat=True))
    found = []
    for address in sorted(wanted - known)[:NEW_TOKENS_PER_STEP]:
        token, complete = lookup.token_info(client, chain.chain_id, address)
        if complete:
            found.append(
                ChainToken(chain=chain, address=address, symbol=token.symbol or "", decimals=token.decimals)
            )
    return found


def as_rule_event(e: ChainEvent) -> rules.Event:
    return rules.Event(
        kind=e.kind,
        tx_hash=e.tx_hash,
        # Parts of one batch log share the log index; the rules order by (block, log index).
        log_index=e.log_index,
        block_number=e.block_number,
        timestamp=e.timestamp,
        sender=e.sender,
        recipient=e.recipient,
        value=int(e.value),
        token=e.token or None,
        standard=e.standard,
        approved=e.approved,
    )


def _commit(
    chain: Chain,
    owner: str,
    expected: int,
    blocks: list[dict[str, Any]],
    events: list[ChainEvent],
    watched: list[str],
    tokens: list[ChainToken],
) -> list[int]:
    top = blocks[-1]
    with transaction.atomic():
        cursor = ChainCursor.objects.select_for_update().get(chain=chain)
        if cursor.lease_owner != owner or cursor.block_number != expected:
            return []  # someone else took over; our reading is theirs to redo
        for e in events:
            e.chain = chain
        ChainEvent.objects.bulk_create(events, ignore_conflicts=True)
        ChainToken.objects.bulk_create(tokens, ignore_conflicts=True)
        SeenBlock.objects.bulk_create(
            [
                SeenBlock(
                    chain=chain,
                    number=_int(b["number"]),
                    hash=b["hash"],
                    parent_hash=b["parentHash"],
                    timestamp=_int(b["timestamp"]),
                )
                for b in blocks
            ],
            ignore_conflicts=True,
        )
        SeenBlock.objects.filter(chain=chain, number__lt=_int(top["number"]) - KEEP_BLOCKS).delete()
        alert_keys = _evaluate(chain, events, set(watched))
        cursor.block_number = _int(top["number"])
        cursor.block_hash = top["hash"]
        cursor.lease_until = timezone.now() + timedelta(seconds=lease_seconds())
        cursor.save(update_fields=["block_number", "block_hash", "lease_until", "updated_at"])
        actions.enqueue_delivery(alert_keys)
    return alert_keys


def _evaluate(chain: Chain, events: list[ChainEvent], watched: set[str]) -> list[int]:
    if not events:
        return []
    configs = rule_configs()
    touched = sorted({a for e in events for a in (e.sender, e.recipient) if a in watched})
    counterparties = {a for e in events for a in (e.recipient,)}
    lists = rules.Lists.of(
        scam=scam_listed(counterparties),
        verified_spenders=VerifiedSpender.objects.values_list("address", flat=True),
    )
    blocks = {e.block_number for e in events}
    alerts: list[ChainAlert] = []
    for address in touched:
        mine = [as_rule_event(e) for e in events if address in (e.sender, e.recipient)]
        history = [
            as_rule_event(e)
            for e in ChainEvent.objects.filter(
                Q(sender=address) | Q(recipient=address), chain=chain
            ).order_by("-block_number", "-log_index")[:HISTORY]
        ]
        for finding in rules.evaluate(address, mine, history, configs, lists):
            alerts.append(
                ChainAlert(
                    chain=chain,
                    rule=finding.code,
                    tx_hash=finding.tx_hash,
                    log_index=finding.log_index,
                    address=address,
                    severity=finding.severity,
                    params=finding.params,
                    block_number=min(blocks),
                )
            )
    ChainAlert.objects.bulk_create(alerts, ignore_conflicts=True)
    keys = Q()
    for a in alerts:
        keys |= Q(rule=a.rule, tx_hash=a.tx_hash, log_index=a.log_index, address=a.address)
    if not alerts:
        return []
    return list(
        ChainAlert.objects.filter(keys, chain=chain, delivered_at__isnull=True).values_list("pk", flat=True)
    )


def rewind(chain: Chain, client: rpc.ChainClient, owner: str) -> int:
    """Walk back to the newest block whose hash the node still has; forget what is above it."""
    seen = dict(SeenBlock.objects.filter(chain=chain).values_list("number", "hash"))
    cursor = ChainCursor.objects.get(chain=chain)
    number = cursor.block_number
    while number in seen:
        block = client.block(number)
        if block is not None and block["hash"] == seen[number]:
            break
        number -= 1
    ancestor = number
    if ancestor not in seen:
        # Deeper than the hashes we keep: restart just below them (events above are re-read).
        ancestor = (min(seen) - 1) if seen else cursor.block_number - 1
        block = client.block(ancestor) if ancestor >= 0 else None
        ancestor_hash = (block or {}).get("hash", "")
    else:
        ancestor_hash = seen[ancestor]
    with transaction.atomic():
        locked = ChainCursor.objects.select_for_update().get(chain=chain)
        if locked.lease_owner != owner:
            return locked.block_number
        # Alerts stay: they fired about a transaction we saw; if the new branch holds it again
        # their unique key keeps it from firing twice.
        ChainEvent.objects.filter(chain=chain, block_number__gt=ancestor).delete()
        SeenBlock.objects.filter(chain=chain, number__gt=ancestor).delete()
        locked.block_number = ancestor
        locked.block_hash = ancestor_hash
        locked.save(update_fields=["block_number", "block_hash", "updated_at"])
    return ancestor


def follow(chain: Chain, owner: str, *, budget_steps: int = 20, max_blocks: int = 50) -> list[Step]:
    """Steps until caught up (or `budget_steps`), under the lease; [] if another worker has it."""
    if not claim(chain.pk, owner):
        return []
    done: list[Step] = []
    try:
        for _ in range(budget_steps):
            result = step(chain, owner, max_blocks=max_blocks)
            done.append(result)
            if result.caught_up:
                break
    finally:
        release(chain.pk, owner)
    return done
