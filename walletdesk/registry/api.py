"""API: "is this official?" for the app and partners.

A public contract: the request shape (``kind`` and ``value``) and the answer's fields are kept;
``kind`` became optional (detected when left out, or "auto") and "address" was added; the
answer gained what was judged (``kind``), the reason codes with their parameters, and the
reason and advice in the language of ``Accept-Language`` (``reason`` itself stays English).
#21 added EVM address verdicts: ``status`` gained "scam" (with the lists in ``lists``), and
something meant as an EVM address that cannot be one (hex, length, EIP-55 checksum) is a 422.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Query, Router, Schema
from pydantic import Field

from walletdesk.core.errors import ErrorOut, Refused
from walletdesk.registry import lookups as registry
from walletdesk.registry import reasons

router = Router(tags=["official channels"])


class VerifyIn(Schema):
    kind: Literal["url", "email", "phone", "handle", "address", "auto"] | None = Field(
        None, description="What the value is; leave it out (or 'auto') to have it detected."
    )
    value: str = Field(..., min_length=1, max_length=500)


class ReasonOut(Schema):
    code: str = Field(..., description="Stable key of one sentence of the explanation.")
    params: dict[str, str]


class VerdictOut(Schema):
    status: Literal["official", "impersonation", "scam", "unknown"] = Field(
        ..., description="'scam' (added for addresses): on an imported scam address list, named in `lists`."
    )
    code: str
    reason: str = Field(..., description="Why, in English.")
    advice: str = Field(..., description="What to do, in English.")
    matched: str | None
    kind: str = Field(
        ...,
        description="What the value was judged as: url, email, phone, handle, address, "
        "secret (a recovery phrase or key: never share it) or other.",
    )
    reasons: list[ReasonOut]
    language: str = Field(..., description="The language of reason_localised and advice_localised.")
    reason_localised: str
    advice_localised: str
    lists: list[str] = Field(
        default_factory=list, description="The imported scam address lists that hold this address."
    )


class Unprocessable(Refused):
    """Something that was meant as an address but cannot be one: 422, as for any invalid field."""

    status = 422


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
    if verdict.kind == "address" and verdict.code == "invalid":
        # Says what is wrong (length, hex, checksum) and never repeats the value: a mistyped
        # "address" may be a key.
        raise Unprocessable("invalid_address", reasons.explain(verdict), field="value")
    return VerdictOut(
        status=verdict.status,
        code=verdict.code,
        reason=verdict.reason,
        advice=verdict.advice,
        matched=verdict.matched,
        kind=verdict.kind,
        reasons=[ReasonOut(code=r.key, params=r.args) for r in verdict.reasons],
        language=get_language() or "en",
        reason_localised=reasons.explain(verdict),
        advice_localised=reasons.advice(verdict),
        lists=list(verdict.lists),
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
