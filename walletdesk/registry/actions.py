"""Every change to the registry's imported lists happens here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk import shield
from walletdesk.core import audit
from walletdesk.core.errors import Refused
from walletdesk.core.locks import lock_rows
from walletdesk.registry import lookups as registry
from walletdesk.registry.models import AddressList, ListedAddress, PhishingDomain


def import_phishing_list(
    source: str,
    *,
    blocklist: Iterable[str] = (),
    allowlist: Iterable[str] = (),
    fuzzylist: Iterable[str] = (),
) -> dict[str, int]:
    """Replace everything imported from `source` with these domains, in one transaction."""
    if not source.strip():
        raise Refused("required", _("Name the list's source."), field="source")
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


# A list's name is shown in verdicts ("on the imported scam address list “…”") and joined with
# commas when an address is on several, so it holds no comma or markup.
_SOURCE = re.compile(r"^[\w][\w .\-]{0,79}$")
# Rows per INSERT: large enough that a million rows take a few hundred statements, small
# enough that one batch of model objects stays a few MB.
CHUNK = 5000
MALFORMED_SHOWN = 5


@dataclass
class AddressImport:
    source: str
    count: int = 0  # distinct addresses now on the list
    valid: int = 0  # lines holding an address (duplicates included)
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)  # the first few line numbers

    @property
    def duplicates(self) -> int:
        return self.valid - self.count


def import_address_list(
    source: str,
    lines: Iterable[str],
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> AddressImport:
    """Replace the scam-address list named `source` with the addresses in `lines` (a CSV whose
    first column holds them, or one per line; see shield.parse_address_lines).

    All in one transaction: until it commits, verdicts and the chain monitor keep reading the
    old list, and if the import dies halfway (killed, out of disk) nothing of it remains. The
    lines are read as they come, `chunk` rows per INSERT, so a million-line file is never held
    in memory. Malformed lines are counted, not fatal, unless no line holds an address.
    `progress` is called with the number of lines stored so far after each chunk.
    """
    source = source.strip()
    if not _SOURCE.match(source):
        raise Refused(
            "invalid_source",
            _("Name the list with up to 80 letters, digits, spaces, dots, dashes or underscores."),
            field="source",
        )
    result = AddressImport(source)
    with transaction.atomic():
        address_list, _created = AddressList.objects.get_or_create(source=source)
        # Two imports of one source queue here instead of interleaving their rows.
        address_list = lock_rows(AddressList, [address_list.pk])[address_list.pk]
        ListedAddress.objects.filter(address_list=address_list).delete()
        batch: set[str] = set()
        for number, address in shield.parse_address_lines(lines):
            if address is None:
                result.malformed += 1
                if len(result.malformed_lines) < MALFORMED_SHOWN:
                    result.malformed_lines.append(number)
                continue
            result.valid += 1
            batch.add(address)
            if len(batch) >= chunk:
                _insert(address_list, batch)
                batch = set()
                if progress is not None:
                    progress(result.valid)
        _insert(address_list, batch)
        if result.valid == 0:
            raise Refused(
                "empty_list",
                _(
                    "No line of the file holds an address (0x and 40 hex characters); the list was not changed."
                ),
                field="file",
                malformed=result.malformed,
            )
        result.count = ListedAddress.objects.filter(address_list=address_list).count()
        address_list.count = result.count
        address_list.imported_at = timezone.now()
        address_list.save(update_fields=["count", "imported_at"])
        audit.record(
            "address_list.imported",
            target_type="address_list",
            target_id=source,
            count=result.count,
            malformed=result.malformed,
        )
    return result


def _insert(address_list: AddressList, addresses: set[str]) -> None:
    # The same address in two chunks of one file: the unique pair keeps one row.
    ListedAddress.objects.bulk_create(
        [ListedAddress(address_list=address_list, address=a) for a in addresses],
        ignore_conflicts=True,
        batch_size=len(addresses) or 1,
    )
