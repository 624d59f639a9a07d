"""How the desk's notices reach a chat's customer (tickets.channels' sender for channel `chat`).

While the chat is open the transcript is live: a reply reaches the socket as it commits
(chat.relay), so there is nothing more to send. Once it has ended, a reply goes by email to a
customer who gave an address. A satisfaction survey goes to the conversation as a `csat` frame.
"""

from __future__ import annotations

from walletdesk.chat import actions
from walletdesk.chat.models import Conversation, State
from walletdesk.core import live
from walletdesk.sla.csat import survey_url
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import channels
from walletdesk.tickets.models import Channel, Message, Ticket


def send(ticket: Ticket, kind: str, message: Message | None) -> str:
    conversation = Conversation.objects.filter(pk=ticket.pk).first()
    if kind == "csat":
        survey = CsatSurvey.objects.filter(ticket=ticket).order_by("-pk").first()
        if survey is None:
            return "no_survey"
        frame = {
            "type": "csat",
            "reference": ticket.reference,
            "good_url": survey_url(survey, "good"),
            "bad_url": survey_url(survey, "bad"),
        }
        live.publish(actions.group(ticket.pk), actions.frame_event(ticket, frame))
        return "in_chat"
    ended = conversation is None or conversation.state == State.ENDED
    mail = channels._senders.get(Channel.EMAIL)
    if kind != "created" and ended and ticket.contact.email and mail is not None:
        return mail(ticket, kind, message)
    return "in_chat"
