"""What a ticket's stored codes say to the person reading them, in their language.

Stored values stay codes and English (the API, webhooks and reports read them); pages turn them
into sentences here: a status for the customer or for the agent, a shipped team's name, a
flag's reason, a history event. Imports nothing of the models, so `Team.__str__` can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from walletdesk import shield
from walletdesk.registry import reasons as reason_words
from walletdesk.tickets.seed import TEAMS

# --- statuses -----------------------------------------------------------------------------------
# The model's labels (Status) are the agent's: "Waiting on customer". The customer reads the same
# state from the other side: "Waiting for your reply". New and open differ only to the desk.
CUSTOMER_STATUS = {
    "new": gettext_lazy("Received"),
    "open": gettext_lazy("In progress"),
    "pending": gettext_lazy("Waiting for your reply"),
    "on_hold": gettext_lazy("In progress"),
    "solved": gettext_lazy("Solved"),
    "closed": gettext_lazy("Closed"),
}


def customer_status(status: str) -> str:
    return str(CUSTOMER_STATUS.get(status, status))


# --- teams ---------------------------------------------------------------------------------------
# Team.name is data an admin types, in one language. The two teams every install ships with are
# translated here, through the catalogues (so zh-hant follows by scripts/make_zh_hant), rather than
# by a name_zh column: a column would need a migration, a second (and for zh-hant a third) field
# in the admin for every team, and still be empty for the teams admins add. A shipped team an
# admin has renamed shows the admin's name: we cannot know its translation.
SHIPPED_TEAM_NAMES = {
    "general": gettext_lazy("General support"),
    "security": gettext_lazy("Security desk"),
}
_SEED_SLUGS = {t["name"]: t["slug"] for t in TEAMS}


def team_name(name: str) -> str:
    """A team's name in the reader's language. By name, not slug: the history stores the name
    the team had at the time."""
    slug = _SEED_SLUGS.get(name)
    return str(SHIPPED_TEAM_NAMES[slug]) if slug in SHIPPED_TEAM_NAMES else name


# --- flags ---------------------------------------------------------------------------------------
# A flag (and a risk the outbound guard reports) is stored as {"code", "reason", "reasons"}: the
# reason in English for the API, and the same explanation as the shield's reason codes with their
# parameters, worded here in the reader's language by the registry's catalogue (the verifier's
# pattern). Rows stored before the codes have only {"code", "reason"}: they are worded by their
# code below (a pattern code as the shield's reason for it, a link by the URL in the stored
# sentence) and, for a code we do not know, show the stored English. A fallback, not a
# migration: the old English cannot be parsed back into parameters reliably (a look-alike link's
# reason is one of the verifier's many sentences), and reading old rows this way costs nothing.
_FLAG_TEXT = {
    "email_undelivered": gettext_lazy("Email to the customer failed: a message was not delivered."),
    "social_undelivered": gettext_lazy("A message to the customer was not delivered."),
}
# An old row's pattern code reads as the shield's reason for it, so a ticket flagged before the
# codes and one flagged after show the same sentence.
_PATTERN_REASON = {
    "fee_request": "scam_fee_request",
    "remote_access": "scam_remote_access",
    "urgency": "scam_urgency",
    "secret_request": "scam_secret_request",
}
_LINK_TEXT = {
    "lookalike_link": gettext_lazy("Links to %(link)s, which imitates an official site."),
    "unofficial_link": gettext_lazy("Links to %(link)s, which is not an official site."),
}
_LINK = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+(?:/\S*)?")


def _coded(stored: Any) -> list[shield.Reason] | None:
    """The stored reason codes as the shield's Reasons; None when absent or not ones we word."""
    if not isinstance(stored, list) or not stored:
        return None
    found = []
    for item in stored:
        if not isinstance(item, Mapping) or str(item.get("key")) not in reason_words.TEMPLATES:
            return None
        params = item.get("params")
        params = params if isinstance(params, Mapping) else {}
        found.append(shield.Reason.of(str(item["key"]), **{str(k): v for k, v in params.items()}))
    return found


def flag_text(flag: Mapping[str, Any]) -> str:
    code = str(flag.get("code", ""))
    reason = str(flag.get("reason", ""))
    coded = _coded(flag.get("reasons"))
    if coded is not None:
        try:
            return shield.render_reasons(coded, reason_words.wording())
        except (KeyError, TypeError, ValueError):
            pass  # a parameter the template lacks: the code's wording or the English below
    if code in _PATTERN_REASON:
        return shield.render_reasons([shield.Reason.of(_PATTERN_REASON[code])], reason_words.wording())
    if code in _FLAG_TEXT:
        return str(_FLAG_TEXT[code])
    if code in _LINK_TEXT:
        found = _LINK.search(reason)
        if found:
            return str(_LINK_TEXT[code]) % {"link": found.group().rstrip(".,;:")}
    return reason


def flag_texts(flags: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per distinct reason: the subject and the body raising the same signal are one."""
    return list(dict.fromkeys(flag_text(f) for f in flags if isinstance(f, Mapping)))


# --- history -------------------------------------------------------------------------------------
_EVENT_TEXT = {
    "created": gettext_lazy("%(who)s opened the request."),
    "agent_replied": gettext_lazy("%(who)s replied to the customer."),
    "customer_replied": gettext_lazy("The customer replied."),
    "internal_note": gettext_lazy("%(who)s added an internal note."),
    "customer_followed_up": gettext_lazy("The customer asked for news after the promised time."),
    "follow_up_opened": gettext_lazy("The customer wrote again after the request was closed."),
    "auto_solved": gettext_lazy("Solved automatically: the customer did not reply."),
    "pending_reminder_sent": gettext_lazy("A reminder was sent to the customer."),
    "csat_sent": gettext_lazy("The satisfaction survey was sent."),
    "csat_answered": gettext_lazy("The customer answered the satisfaction survey."),
    "csat_changed": gettext_lazy("The customer changed their satisfaction rating."),
    "escalated": gettext_lazy("Escalated: the reply time was missed."),
    "sla_at_risk": gettext_lazy("The promised time is close."),
    "sla_breached": gettext_lazy("The promised time was missed."),
    "secret_removed": gettext_lazy("A recovery phrase or key was removed from the customer's text."),
    "triage_override": gettext_lazy("The category was corrected: the text describes a security case."),
    "identity_confirmed": gettext_lazy("%(who)s confirmed the customer's identity."),
    "template_sent": gettext_lazy("%(who)s sent a template message."),
    "attachment_dropped": gettext_lazy("An attachment was not kept."),
    "email_send_failed": gettext_lazy("A reply could not be emailed."),
    "social_send_failed": gettext_lazy("A reply could not be delivered."),
    "chat_ended": gettext_lazy("The chat ended."),
    "merged_into": gettext_lazy("%(who)s merged this request into %(target)s."),
    "merged_from": gettext_lazy("%(who)s merged %(source)s into this request."),
}


def event_sentence(kind: str, data: Mapping[str, Any], who: str, labels: Mapping[str, Any]) -> str:
    """One history line as a sentence. `who` is the actor's label (or "" for the system);
    `labels` maps status and priority values to their labels (the model's choices)."""
    actor = who or _("The system")
    if kind == "status_changed":
        new = labels.get(str(data.get("new")), data.get("new"))
        return _("%(who)s set the status to %(status)s.") % {"who": actor, "status": new}
    if kind == "priority_changed":
        new = labels.get(str(data.get("new")), data.get("new"))
        return _("%(who)s set the priority to %(priority)s.") % {"who": actor, "priority": new}
    if kind == "assigned":
        if data.get("new"):
            return _("%(who)s assigned the request to %(name)s.") % {
                "who": actor,
                "name": data.get("name", ""),
            }
        return _("%(who)s unassigned the request.") % {"who": actor}
    if kind == "team_changed":
        if data.get("new"):
            name = team_name(str(data.get("name", "")))
            return _("%(who)s moved the request to %(team)s.") % {"who": actor, "team": name}
        return _("%(who)s removed the team.") % {"who": actor}
    if kind == "facts_changed":
        return _("%(who)s updated the details: %(fields)s.") % {
            "who": actor,
            # Chinese lists with 、 not a comma: the separator is translated.
            "fields": pgettext("list separator", ", ").join(str(f) for f in data.get("fields") or []),
        }
    if kind == "created" and not who:
        return _("The customer sent the request.")
    text = _EVENT_TEXT.get(kind)
    if text is None:
        return kind.replace("_", " ")
    values = {"who": actor, "target": data.get("target", ""), "source": data.get("source", "")}
    return str(text) % values
