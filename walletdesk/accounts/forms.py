from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext_lazy as _

from walletdesk.accounts.models import DocumentKind

REASON_HELP = _("Recorded in the audit log with your name.")
WRONG_SETUP_CODE = _(
    "That code is not correct. Enter the 6-digit code your authenticator app shows now; "
    "if it keeps failing, check that your phone's clock is set automatically."
)


class SignupForm(AllauthSignupForm):
    """allauth's sign-up, doing the same work whether or not the email already has an account.

    A new email costs a password hash (allauth's save_user); a known one used to cost nothing,
    and the 0.5 s difference told anyone who has an account. The known path now hashes the
    password too, and throws the hash away. (Both paths queue one mail: adapters.py.)
    """

    def try_save(self, request: Any) -> Any:
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)


class UnlockRequestForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)


class AgentActionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why"),
        max_length=1000,
        min_length=5,
        help_text=REASON_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResetMFAForm(AgentActionForm):
    identity_check = forms.CharField(
        label=_("Identity check performed"),
        max_length=1000,
        min_length=5,
        help_text=_("How you confirmed this is the account owner, e.g. documents matched, video call."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecoveryCaseForm(forms.Form):
    """The "account stolen" report. The tickets app renders and submits it."""

    email = forms.EmailField(label=_("Your account's email address"), max_length=254)
    what_happened = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("When did you notice, what changed, what did you lose access to?"),
    )
    recent_activity = forms.CharField(
        label=_("Recent activity you recognise"),
        max_length=3000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your last sign-in you are sure of, devices you use, recent transactions."),
    )
    document_kind = forms.ChoiceField(label=_("Identity document"), choices=DocumentKind.choices)
    front = forms.FileField(
        label=_("Front (photo or PDF)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )
    back = forms.FileField(
        label=_("Back (photo or PDF)"),
        required=False,
        help_text=_("Not needed for a passport."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )
    # Optional: a victim filing from a computer may have no camera at hand, and an urgent case
    # without it is better than none; the reviewer sees that it is missing.
    selfie = forms.FileField(
        label=_("Selfie holding the document (photo)"),
        required=False,
        help_text=_("Your face and the document's photo page in one picture, both clearly visible."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args: object, user: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if getattr(user, "is_authenticated", False):
            # A signed-in customer's case is about their own account.
            del self.fields["email"]


class ActivateTOTPForm(AllauthActivateTOTPForm):
    """Turning 2FA on: a wrong code says the code is wrong.

    Sign-in keeps one sentence for every wrong factor (adapters.SIGN_IN_FAILED), so the login
    page never says which one failed. Here the user is already signed in and is typing the
    code their app shows for the first time: "sign-in details are not correct" sent them back
    to re-check their password, when the usual cause is a phone clock or a stale code.
    """

    def clean_code(self) -> str:
        try:
            return str(super().clean_code())
        except forms.ValidationError as error:
            if getattr(error, "code", None) != "incorrect_code":
                raise
            raise forms.ValidationError(WRONG_SETUP_CODE, code="incorrect_code") from None
