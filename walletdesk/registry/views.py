"""The public "is this official?" check: a URL, email, phone number or handle in, a verdict out."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from walletdesk.registry import lookups as registry

KINDS = [
    ("url", _("Website or link")),
    ("email", _("Email address")),
    ("phone", _("Phone number")),
    ("handle", _("Social account (WeChat, Weibo, X, Telegram)")),
]


class VerifyForm(forms.Form):
    kind = forms.ChoiceField(choices=KINDS, label=_("What do you want to check?"))
    value = forms.CharField(
        max_length=500,
        label=_("Paste it here"),
        widget=forms.TextInput(attrs={"placeholder": "https://…  /  name@…  /  @handle"}),
    )


@require_GET  # a look-up changes nothing, so the result has a shareable URL
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.GET or None)
    verdict = None
    if form.is_bound and form.is_valid():
        try:
            verdict = registry.verify(form.cleaned_data["kind"], form.cleaned_data["value"])
        except ValueError as exc:
            form.add_error("value", str(exc))
    return render(request, "registry/verify.html", {"form": form, "verdict": verdict})
