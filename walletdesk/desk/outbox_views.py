"""The outbox page: the mail a demo or development install kept instead of sending (core.outbox).

Agents only, like the rest of the desk: the mails hold tracking links, confirmation links and
password-reset links for every customer, which only people who may already act on customers'
tickets should follow. A mail to another staff member (their password reset, their sign-in
notice) is shown only to administrators: an agent following a colleague's or the admin's reset
link would take over that account. There is no page at all (404) where mail really leaves,
production included.
"""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from walletdesk.core import outbox
from walletdesk.core.agents import agent_required


def _colleagues(user: Any) -> set[str]:
    """Addresses whose mail this viewer may not read: other staff members', unless an admin."""
    if user.is_superuser:
        return set()
    staff = get_user_model().objects.filter(is_staff=True).exclude(pk=user.pk)
    return {str(address).lower() for address in staff.values_list("email", flat=True) if address}


def _readable(mail: outbox.Mail, hidden: set[str]) -> bool:
    return not {address.lower() for _name, address in getaddresses([mail.to])} & hidden


def _require_outbox() -> None:
    if not outbox.enabled():
        raise Http404("This install sends its mail; there is no outbox.")


@agent_required
def index(request: HttpRequest) -> HttpResponse:
    _require_outbox()
    hidden = _colleagues(request.user)
    mails = [m for m in outbox.mails() if _readable(m, hidden)]
    return render(
        request,
        "desk/outbox.html",
        {"mails": mails, "folder": outbox.directory(), "limit": outbox.LIST_LIMIT},
    )


@agent_required
def detail(request: HttpRequest, name: str) -> HttpResponse:
    _require_outbox()
    mail = outbox.mail(name)
    if mail is None or not _readable(mail, _colleagues(request.user)):
        raise Http404("No such mail.")
    return render(request, "desk/outbox_mail.html", {"mail": mail})
