"""The building blocks of every ticket form: file fields checked by content, and forms that never
show a secret back. The customer's request form is in portal/forms.py, the agent's in desk/forms.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from walletdesk import shield
from walletdesk.tickets.files import CheckedFile, RejectedFile, check_file


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


class ReplyForm(NoSecretEchoMixin, forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField(label=_("Attach files"))
