from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from walletdesk.core import brand, outbox


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_URL": settings.SITE_URL,
        # Demo and development installs keep their mail for agents to read (desk nav link).
        "OUTBOX": outbox.enabled(),
        # The operator's name, logo and colours (BRAND_* settings), for the base templates.
        "BRAND": brand.current(),
    }
