"""The customer-facing pages of issue 6: the satisfaction survey and the "follow up" button."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from walletdesk.sla import csat, followups
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import access
from walletdesk.tickets.models import Ticket
from walletdesk.tickets.tracking import BadTrackingToken


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    try:
        found = csat.read_token(token, reference)
    except csat.BadSurveyLink:
        return render(request, "portal/bad_link.html", {"expired": False}, status=403)
    if request.method == "POST":
        rating = request.POST.get("rating", "")
        if rating in CsatSurvey.Rating.values:
            found = csat.record(found, rating, request.POST.get("comment", ""))
            return render(request, "sla/csat/thanks.html", {"survey": found})
    chosen = request.GET.get("r", "") if request.method == "GET" else request.POST.get("rating", "")
    return render(
        request,
        "sla/csat/survey.html",
        {
            "survey": found,
            "ticket": found.ticket,
            "chosen": chosen if chosen in CsatSurvey.Rating.values else found.rating,
            "ratings": CsatSurvey.Rating.choices,
        },
        status=200 if request.method == "GET" else 400,
    )


def _follow_up(request: HttpRequest, ticket: Ticket, back: str) -> HttpResponse:
    try:
        followups.customer_follow_up(ticket, user=request.user)
    except followups.FollowUpRefused:
        flash.info(request, _("We already have your follow-up; we will answer as soon as we can."))
        return redirect(back)
    flash.success(request, _("Thank you. We moved your request up and told the team."))
    return redirect(back)


@login_required
@require_POST
def follow_up_mine(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = access.customer_tickets(request.user).filter(reference=reference.upper()).first()
    if ticket is None:
        raise Http404
    return _follow_up(request, ticket, reverse("portal:my_request", args=[ticket.reference]))


@require_POST
def follow_up_by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = access.ticket_by_tracking_token(token)
    except BadTrackingToken:
        return render(request, "portal/bad_link.html", {"expired": False}, status=403)
    if ticket is None:
        raise Http404
    return _follow_up(request, ticket, reverse("portal:track", args=[token]))
