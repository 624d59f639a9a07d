"""The agent's forms: reply or note, properties, merge, bulk actions in the inbox, a phone call
logged as a ticket."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from walletdesk.tickets.forms import ReplyForm
from walletdesk.tickets.models import Category, Priority, Status, Team


class VersionField(forms.IntegerField):
    """The ticket's version the page was rendered from (hidden). The action refuses the change
    if the ticket moved on since; left out (a page from before versions, a script) the change
    applies unchecked, as it always did; anything but a whole number makes the form invalid."""

    widget = forms.HiddenInput

    def __init__(self) -> None:
        super().__init__(required=False, min_value=1, max_value=2**62)


class AgentReplyForm(ReplyForm):
    internal = forms.BooleanField(label=_("Internal note (the customer does not see it)"), required=False)
    status = forms.ChoiceField(
        label=_("Then set status"), choices=[("", _("keep as is")), *Status.choices], required=False
    )
    override_risks = forms.BooleanField(required=False, widget=forms.HiddenInput)
    version = VersionField()


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices, label=_("Status"))
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"))
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label=_("Assignee"), empty_label=_("Unassigned")
    )
    # Django's empty choice is "---------", in no language; say what choosing it means.
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, label=_("Team"), empty_label=_("No team")
    )
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from walletdesk.accounts.models import User

        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(is_staff=True, is_active=True).order_by("email")
        field.label_from_instance = lambda u: u.label  # type: ignore[method-assign,assignment]


class TakeForm(forms.Form):
    version = VersionField()


class MergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into (reference)"), max_length=20)


BULK_LIMIT = 200  # rows one bulk POST may name (a page shows 50)


def parse_rows(values: list[str]) -> dict[str, int]:
    """The inbox rows a bulk action names, `REFERENCE:VERSION` each (the version the row was
    rendered with), in their order; a value out of that form is a `ValidationError`."""
    rows: dict[str, int] = {}
    for value in values:
        reference, _sep, version = value.strip().upper().partition(":")
        if not (reference and len(reference) <= 30 and version.isdigit() and 1 <= int(version) < 2**62):
            raise forms.ValidationError(_("This form was damaged or out of date."))
        rows.setdefault(reference, int(version))
    if len(rows) > BULK_LIMIT:
        raise forms.ValidationError(_("Too many tickets selected."))
    return rows


class BulkForm(forms.Form):
    """One change to the tickets selected in the inbox. `t`: the ticked rows; `all` with `page`:
    every row of the page (the "select all" box, which works without JS)."""

    OPS = ("assign_me", "assign", "status", "team", "merge")

    op = forms.ChoiceField(choices=[(op, op) for op in OPS])
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label=_("Assignee"), empty_label=_("Assign to…")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Set status…")), *Status.choices], required=False
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, label=_("Team"), empty_label=_("Set team…")
    )
    merge_into = forms.CharField(label=_("Merge into"), max_length=30, required=False)
    all = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from walletdesk.accounts.models import User

        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(is_staff=True, is_active=True).order_by("email")
        field.label_from_instance = lambda u: u.label  # type: ignore[method-assign,assignment]
        for name in ("assignee", "status", "team"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key = "page" if data.get("all") else "t"
        source: list[str] = self.data.getlist(key) if isinstance(self.data, QueryDict) else []
        data["rows"] = parse_rows(source)
        if not data["rows"]:
            raise forms.ValidationError(_("Select at least one ticket."))
        op = data.get("op")
        needs = {"assign": "assignee", "status": "status", "team": "team", "merge": "merge_into"}
        if op in needs and not data.get(needs[op]):
            raise forms.ValidationError(
                {
                    "assign": _("Choose the agent to assign to."),
                    "status": _("Choose the status to set."),
                    "team": _("Choose the team to set."),
                    "merge": _("Choose which of the selected tickets to merge into."),
                }[op]
            )
        return data


class PhoneTicketForm(forms.Form):
    email = forms.EmailField(label=_("Caller's email"), required=False)
    phone = forms.CharField(label=_("Caller's phone number"), max_length=40, required=False)
    name = forms.CharField(label=_("Caller's name"), max_length=120, required=False)
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True),
        to_field_name="slug",
        required=False,
        label=_("Category"),
        empty_label=_("Choose a category"),
    )
    priority = forms.ChoiceField(choices=[("", _("from category")), *Priority.choices], required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Call notes"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Give the caller's email or phone number."))
        return data
