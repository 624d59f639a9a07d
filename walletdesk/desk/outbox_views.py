"""The outbox page: the mail a demo or development install kept instead of sending (core.outbox).

Agents only, like the rest of the desk: the mails hold tracking links, confirmation links and
password-reset links for every customer, which only people who may already act on customers'
tickets should follow. There is no page at all (404) where mail really leaves, production
included.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from walletdesk.core import outbox
from walletdesk.core.agents import agent_required


def _require_outbox() -> None:
    if not outbox.enabled():
        raise Http404("This install sends its mail; there is no outbox.")


@agent_required
def index(request: HttpRequest) -> HttpResponse:
    _require_outbox()
    mails = outbox.mails()
    return render(
        request,
        "desk/outbox.html",
        {"mails": mails, "folder": outbox.directory(), "limit": outbox.LIST_LIMIT},
    )


@agent_required
def detail(request: HttpRequest, name: str) -> HttpResponse:
    _require_outbox()
    mail = outbox.mail(name)
    if mail is None:
        raise Http404("No such mail.")
    return render(request, "desk/outbox_mail.html", {"mail": mail})
