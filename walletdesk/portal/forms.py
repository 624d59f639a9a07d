"""The customer's request form: the fields it asks for follow the chosen category."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from walletdesk.tickets.forms import AttachmentsField, NoSecretEchoMixin
from walletdesk.tickets.models import FACT_FIELDS, Category, Fact, Ticket

FACT_HELP = {
    "account": _("The email or account ID you sign in with."),
    "wallet_address": _("The address involved, e.g. 0x… or T…"),
    "chain": _("e.g. Ethereum, TRON, BNB Chain, Bitcoin"),
    "tx_hash": _("The transaction hash (TxID) from the transaction details screen."),
    "error_code": _("The exact error text or code on the screen."),
    "device": _("e.g. iPhone 15, Huawei P60"),
    "os": _("e.g. iOS 18.1, Android 15"),
    "app_version": _("Me → Settings → About shows it, e.g. 2.15.3"),
}


def _fact_field(name: str, required: bool) -> forms.CharField:
    max_length = getattr(Ticket._meta.get_field(name), "max_length", None)
    return forms.CharField(
        label=Fact(name).label, required=required, max_length=max_length, help_text=FACT_HELP.get(name, "")
    )


class RequestForm(NoSecretEchoMixin, forms.Form):
    """The customer's request form; the fields it asks for follow the chosen category."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True),
        to_field_name="slug",
        label=_("What do you need help with?"),
        empty_label=_("Choose a topic"),  # not Django's "---------"
    )
    email = forms.EmailField(
        label=_("Your email"), help_text=_("We send the reply and a tracking link here.")
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Describe the problem"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Never write your recovery phrase or private key. Support will never ask for them."),
    )
    attachments = AttachmentsField(label=_("Screenshots or documents (optional)"))

    def __init__(self, *args: Any, category: Category | None = None, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda c: c.name  # type: ignore[attr-defined]
        if user is not None and user.is_authenticated:
            del self.fields["email"]
        self.fact_names: list[str] = []
        if category is not None:
            for name in category.facts:
                if name in FACT_FIELDS:
                    self.fields[name] = _fact_field(name, required=name in category.required_facts)
                    self.fact_names.append(name)

    def facts(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.fact_names}

    def fact_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fact_names]
