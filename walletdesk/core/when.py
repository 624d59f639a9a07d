"""A promised time, written with its zone as an offset: "2026-12-07 18:00 (UTC+08:00)".

Not "CST": that is China Standard Time to a reader in Shanghai, Central Standard Time (UTC-6)
to one in Chicago and Cuba Standard Time in Havana, so a customer abroad could wait 14 hours
for a reply we promised. An offset means one thing everywhere and needs no translation.
The zone is the desk's (settings.TIME_ZONE): we do not know the customer's.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

FORMAT = "%Y-%m-%d %H:%M (UTC%:z)"


def zoned(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime(FORMAT)
