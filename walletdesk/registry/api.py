"""API: "is this official?" for the app and partners."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from walletdesk.core.errors import ErrorOut, Refused
from walletdesk.registry import lookups as registry

router = Router(tags=["official channels"])


class VerifyIn(Schema):
    kind: Literal["url", "email", "phone", "handle"]
    value: str = Field(..., min_length=1, max_length=500)


class VerdictOut(Schema):
    status: Literal["official", "impersonation", "unknown"]
    code: str
    reason: str
    advice: str
    matched: str | None


class OfficialOut(Schema):
    kind: str
    value: str
    label_en: str
    label_zh: str
    url: str


# The operation ids are the ones generated clients have used since the endpoints lived in tickets.
@router.get(
    "/verify",
    response={200: VerdictOut, 400: ErrorOut, 422: ErrorOut},
    auth=None,
    operation_id="walletdesk_tickets_verify_api_verify",
)
def verify(request: HttpRequest, query: Query[VerifyIn]) -> VerdictOut:
    try:
        verdict = registry.verify(query.kind, query.value)
    except ValueError as exc:
        raise Refused("invalid_value", str(exc), field="value") from None
    return VerdictOut(
        status=verdict.status,
        code=verdict.code,
        reason=verdict.reason,
        advice=verdict.advice,
        matched=verdict.matched,
    )


@router.get(
    "/official-channels",
    response=list[OfficialOut],
    auth=None,
    operation_id="walletdesk_tickets_verify_api_official_channels",
)
def official_channels(request: HttpRequest) -> list[OfficialOut]:
    from walletdesk.registry.models import OfficialContact

    return [
        OfficialOut(kind=c.kind, value=c.value, label_en=c.label_en, label_zh=c.label_zh, url=c.url)
        for c in OfficialContact.objects.filter(current=True)
    ]
