"""Sentences the tickets app shows for account work, kept here so accounts' catalog translates them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

RECOVERY_SUBJECT = _("Account stolen: recovery request")
RECENT_ACTIVITY = _("Recent activity I recognise:")
DOCUMENTS_ATTACHED = _("%(n)d identity document file(s) attached to recovery case %(case)s (encrypted).")
NO_ACCOUNT = _("This customer has no account.")
UNLOCKED = _("Account unlocked.")
RESET_FORCED = _("Password reset forced; the customer was signed out and emailed a reset link.")
MFA_RESET = _("Two-factor authentication was reset.")
NO_OPEN_CASE = _("No open recovery case on this ticket.")
CASE_CLOSED = _("Recovery case closed; its documents will be deleted after %(days)d days.")
