from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from walletdesk import shield
from walletdesk.tickets.files import CheckedFile, RejectedFile, check_file
from walletdesk.tickets.models import FACT_FIELDS, Category, Fact, Priority, Status, Team, Ticket

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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several pictures or PDFs, each checked by content and size."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"accept": "image/*,application/pdf", "multiple": True})

    def clean(self, data: Any, initial: Any = None) -> list[CheckedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        checked, errors = [], []
        for upload in files:
            try:
                checked.append(check_file(upload.name, upload.read()))
            except RejectedFile as exc:
                errors.append(exc.message)
        if errors:
            raise forms.ValidationError(errors)
        return checked


class NoSecretEchoMixin:
    """A form shown again after an error never writes a secret back into the page.

    The customer's text is echoed into the re-rendered fields (value attributes, textareas),
    where the browser, its autofill, a proxy cache or a screenshot would keep it. Only when the
    form is shown again: a valid form's text goes to the action unchanged, which screens it and
    records that a secret was shared.
    """

    data: Any

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        if self.errors:  # type: ignore[attr-defined]
            self._hide_secrets()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        self._hide_secrets()

    def _hide_secrets(self) -> None:
        if not self.data:
            return
        data = self.data.copy()
        changed = False
        for key in list(data.keys()):
            values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            screened = [shield.scan(v).redacted if isinstance(v, str) else v for v in values]
            if screened != values:
                changed = True
                if hasattr(data, "setlist"):
                    data.setlist(key, screened)
                else:
                    data[key] = screened[0]
        if changed:
            self.data = data


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


class ReplyForm(NoSecretEchoMixin, forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField(label=_("Attach files"))


class AgentReplyForm(ReplyForm):
    internal = forms.BooleanField(label=_("Internal note (the customer does not see it)"), required=False)
    status = forms.ChoiceField(
        label=_("Then set status"), choices=[("", _("keep as is")), *Status.choices], required=False
    )
    override_risks = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices, label=_("Status"))
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"))
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label=_("Assignee")
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, label=_("Team"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from walletdesk.accounts.models import User

        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(is_staff=True, is_active=True).order_by("email")
        field.label_from_instance = lambda u: u.label  # type: ignore[method-assign,assignment]


class MergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into (reference)"), max_length=20)


class PhoneTicketForm(forms.Form):
    email = forms.EmailField(label=_("Caller's email"), required=False)
    phone = forms.CharField(label=_("Caller's phone number"), max_length=40, required=False)
    name = forms.CharField(label=_("Caller's name"), max_length=120, required=False)
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True),
        to_field_name="slug",
        required=False,
        label=_("Category"),
    )
    priority = forms.ChoiceField(choices=[("", _("from category")), *Priority.choices], required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Call notes"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Give the caller's email or phone number."))
        return data
