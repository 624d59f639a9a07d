"""The public "is this official?" check: a URL, email, phone number, handle or address in, a
verdict out, worded in the page's language, with a report form that already holds the value."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from walletdesk import shield
from walletdesk.registry import lookups as registry
from walletdesk.registry import reasons

KINDS = [
    ("", _("Detect automatically")),
    ("url", _("Website or link")),
    ("email", _("Email address")),
    ("phone", _("Phone number")),
    ("handle", _("Social account (WeChat, Weibo, X, Telegram)")),
    ("address", _("Wallet address")),
]
_SUBJECT_LIMIT = 200


class VerifyForm(forms.Form):
    value = forms.CharField(
        max_length=500,
        label=_("Paste it here"),
        widget=forms.TextInput(
            attrs={"placeholder": "https://…  /  name@…  /  @handle  /  +86…  /  0x…", "autocomplete": "off"}
        ),
    )
    kind = forms.ChoiceField(
        choices=KINDS,
        required=False,
        label=_("What is it?"),
        help_text=_("Leave it on “Detect automatically” unless the answer reads it wrongly."),
    )


def _report_url(verdict: shield.Verdict, explanation: str) -> str:
    """The scam-report form (a ticket in "scam_report", for the General team), already holding
    what was checked and what we said about it, so the customer does not type it again."""
    value = verdict.value.strip()
    if verdict.kind == "address" and verdict.status in ("impersonation", "scam"):
        subject = gettext("Scam address: %(value)s") % {"value": value}
    elif verdict.status == "impersonation":
        subject = gettext("Fake support: %(value)s") % {"value": value}
    else:
        subject = gettext("Suspicious contact: %(value)s") % {"value": value}
    body = gettext(
        "I checked “%(value)s” on the “Is this official?” page.\n"
        "The answer: %(reason)s\n\n"
        "Where I saw it, and what they asked me to do:\n"
    ) % {"value": value, "reason": explanation}
    query = {"category": "scam_report", "subject": subject[:_SUBJECT_LIMIT], "body": body}
    if verdict.kind == "address":
        query["wallet_address"] = value
    return f"{reverse('portal:new')}?{urlencode(query)}"


def _comparison(verdict: shield.Verdict) -> list[tuple[str, str, str, str]]:
    """A lookalike address beside the official one it copies, split into the copied start, the
    middle that differs and the copied end: what a wallet's "0x1a2b…9f8e" hides."""
    copied = next((r.args for r in verdict.reasons if r.key == "address_lookalike"), None)
    if verdict.status != "impersonation" or copied is None:
        return []
    head, tail = 2 + int(copied["head"]), int(copied["tail"])
    return [
        (str(label), address[:head], address[head:-tail], address[-tail:])
        for label, address in ((_("This address"), copied["address"]), (_("Our address"), copied["genuine"]))
    ]


def _secret_warning(code: str) -> shield.Verdict:
    reason = shield.Reason(code)
    return shield.Verdict("secret", "", "unknown", code, shield.render_reasons([reason]), None, (reason,))


@require_GET  # a look-up changes nothing, so the result has a shareable URL
def verify(request: HttpRequest) -> HttpResponse:
    warning = request.GET.get("warning", "")
    if warning in shield.SECRET_CODES and "value" not in request.GET:
        form = VerifyForm()
        verdict: shield.Verdict | None = _secret_warning(warning)
    else:
        form = VerifyForm(request.GET or None)
        verdict = None
        if form.is_bound and form.is_valid():
            verdict = registry.verify(form.cleaned_data["kind"] or None, form.cleaned_data["value"])
            if verdict.code in shield.SECRET_CODES:
                # Not shown back, and gone from the address bar (and so from a shared link or
                # a screenshot of it): answer on a URL that does not hold it.
                return redirect(f"{reverse('portal:verify')}?{urlencode({'warning': verdict.code})}#verdict")
    context: dict[str, object] = {"form": form, "verdict": verdict}
    if verdict is not None:
        explanation = reasons.explain(verdict)
        # Something that is not a contact (a secret, gibberish) or that we could not read is not
        # reported; an official channel needs no report.
        reportable = verdict.status != "official" and verdict.kind not in ("secret", "other")
        context |= {
            "explanation": explanation,
            "read_as": reasons.kind_label(verdict.kind),
            "comparison": _comparison(verdict),
            "report_url": _report_url(verdict, explanation)
            if reportable and verdict.code != "invalid"
            else "",
        }
    return render(request, "registry/verify.html", context)
