"""Which shared limit a guest's new ticket counts against (core.ratelimit).

A guest ticket counts per client address and per email (`RATE_LIMIT_GUEST_TICKET`). A carrier
NAT or an office puts many people behind one address, so a theft victim reporting from their
phone could find that address's hour already spent by other people's traffic, and be told to
come back later while the thief moves the funds. So a security report (the categories the
Security desk takes: stolen account, unauthorised transaction) counts in its own bucket
(`RATE_LIMIT_GUEST_SECURITY_REPORT`, default 100/h per address and 5/h per email): ordinary
traffic from the address cannot use it up.

Why not no per-address limit for them: a security report is urgent and paged, so an unlimited
one would be the cheapest way to flood the Security desk. Why not a higher shared limit: the
ordinary traffic would still use it up. One address thus gets at most the ordinary limit plus
the security one per hour, whatever category and email it picks; one email at most 10 + 5
acknowledgements an hour. A signed-in customer is never limited as a guest.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from walletdesk.core import ratelimit
from walletdesk.tickets.screening import SECURITY_CATEGORIES


def ticket_charge(request: Any, email: str | None, category: str | None) -> ratelimit.Charge | None:
    if category in SECURITY_CATEGORIES:
        return ratelimit.guest_charge(
            request, "guest-security-report", settings.RATE_LIMIT_GUEST_SECURITY_REPORT, email
        )
    return ratelimit.guest_charge(request, "guest-ticket", settings.RATE_LIMIT_GUEST_TICKET, email)
