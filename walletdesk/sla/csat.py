"""Satisfaction surveys: one per solve, answered through a signed one-click link.

The link carries the survey id signed with its own salt; the page it opens (GET) only shows a
confirm form with the choice preselected, and the answer is recorded by the POST, so mail
scanners that prefetch links never vote.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from walletdesk import shield
from walletdesk.core import mail
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import actions, channels
from walletdesk.tickets.models import Channel, Ticket

# A wire format, not a module path: survey links already mailed (30 days) are signed with it.
SALT = "walletdesk.tickets.csat"
MAX_AGE_DAYS = 30


class BadSurveyLink(Exception):
    pass


def make_token(survey: CsatSurvey) -> str:
    return signing.dumps({"s": survey.pk, "t": survey.ticket_id}, salt=SALT, compress=True)


def read_token(token: str, reference: str) -> CsatSurvey:
    """The survey behind a link, only if the link was made for this ticket reference."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        raise BadSurveyLink from None
    survey = (
        CsatSurvey.objects.select_related("ticket").filter(pk=data.get("s"), ticket_id=data.get("t")).first()
    )
    if survey is None or survey.ticket.reference != reference.upper():
        raise BadSurveyLink
    return survey


def survey_url(survey: CsatSurvey, rating: str = "") -> str:
    path = reverse("portal:csat", args=[survey.ticket.reference, make_token(survey)])
    return f"{settings.SITE_URL}{path}" + (f"?r={rating}" if rating else "")


def schedule_survey(ticket_id: int) -> None:
    send_survey.enqueue(ticket_id=ticket_id)


@task(queue_name="email")
def send_survey(ticket_id: int) -> str:
    ticket = Ticket.objects.select_related("contact").filter(pk=ticket_id).first()
    if ticket is None or ticket.status != "solved":
        return "skipped"
    with transaction.atomic():
        survey = CsatSurvey.objects.create(ticket=ticket)
        actions.record_event(ticket, "csat_sent", survey=survey.pk)
    # A channel with its own sender (WeChat, Telegram, in-app...) carries the survey as kind
    # "csat" and builds the buttons from `survey_url`; everyone else gets it by email.
    sender = channels._senders.get(ticket.channel)
    if sender is not None and ticket.channel != Channel.EMAIL:
        return sender(ticket, "csat", None)
    if not ticket.contact.email:
        return "no_channel"
    with translation.override(mail.language(ticket.language)):
        context = {
            "ticket": ticket,
            "good": survey_url(survey, "good"),
            "bad": survey_url(survey, "bad"),
        }
        subject = mail.subject(render_to_string("sla/csat/email_subject.txt", context).strip())
        body = render_to_string("sla/csat/email.txt", context)
    send_mail(subject, body, None, [ticket.contact.email])
    return "sent"


def record(survey: CsatSurvey, rating: str, comment: str) -> CsatSurvey:
    if rating not in CsatSurvey.Rating.values:
        raise ValueError(rating)
    # The comment box is free text from whoever holds the link: it passes the shield like
    # every other inbound text, outside the lock. Scanned before the cut at 2000, so a phrase
    # straddling the cut is still found whole (the margin bounds the scan's work; what lies
    # past it is dropped anyway).
    screened = shield.scan(comment.strip()[:4000]).redacted[:2000]
    with transaction.atomic():
        survey = CsatSurvey.objects.select_for_update().get(pk=survey.pk)
        first = survey.answered_at is None
        survey.rating = rating
        survey.comment = screened
        survey.answered_at = timezone.now()
        survey.save(update_fields=["rating", "comment", "answered_at"])
        actions.record_event(
            survey.ticket_id,
            "csat_answered" if first else "csat_changed",
            rating=rating,
            comment=bool(survey.comment),
        )
    return survey
