"""Every change to the registry's imported lists happens here."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from walletdesk.core import audit
from walletdesk.core.errors import Refused
from walletdesk.registry import lookups as registry
from walletdesk.registry.models import PhishingDomain


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
