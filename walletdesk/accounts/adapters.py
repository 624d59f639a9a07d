"""allauth adapters: one wording for every failed sign-in, TOTP secrets encrypted at rest."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.utils.translation import gettext_lazy as _

from walletdesk.accounts import crypto

# The same sentence for a wrong password, an unknown email and a wrong 2FA code, so the login
# page never tells which factor (or whether the account) was wrong.
SIGN_IN_FAILED = _("The sign-in details you entered are not correct.")


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": SIGN_IN_FAILED,
        "username_password_mismatch": SIGN_IN_FAILED,
        "phone_password_mismatch": SIGN_IN_FAILED,
    }


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {**DefaultMFAAdapter.error_messages, "incorrect_code": SIGN_IN_FAILED}

    # allauth stores the TOTP secret in the database; keep it encrypted with the document keys.
    def encrypt(self, text: str) -> str:
        return "fernet:" + crypto.encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if encrypted_text.startswith("fernet:"):
            return crypto.decrypt(encrypted_text.removeprefix("fernet:").encode()).decode()
        return encrypted_text
