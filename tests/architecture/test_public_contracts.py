"""What other systems hold on to survives the restructure: API operation ids, signed links, hooks.

Generated API clients name their methods after the OpenAPI operation ids, which django-ninja
derives from the module path; links already mailed are signed with salts that must not follow
a module that moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core import signing

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contracts"


def test_every_api_operation_keeps_its_path_method_and_id() -> None:
    from walletdesk.api import api

    schema = api.get_openapi_schema()
    now = {
        f"{method.upper()} {path}": op["operationId"]
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    }
    before = dict(json.loads((FIXTURES / "openapi_operations_7eba4e3.json").read_text()))
    missing_or_renamed = {k: (v, now.get(k)) for k, v in before.items() if now.get(k) != v}
    assert not missing_or_renamed


@pytest.mark.django_db
def test_a_survey_link_mailed_before_the_move_still_opens(alice: Any) -> None:
    from walletdesk.sla import csat
    from walletdesk.sla.models import CsatSurvey
    from walletdesk.tickets import actions

    ticket = actions.create_ticket(actions.NewTicket(subject="s", body="b", email="old-link@example.com"))
    survey = CsatSurvey.objects.create(ticket=ticket)
    # Exactly what the code before #17 signed (walletdesk/tickets/csat.py at 7eba4e3).
    old_link = signing.dumps({"s": survey.pk, "t": ticket.pk}, salt="walletdesk.tickets.csat", compress=True)
    assert csat.read_token(old_link, ticket.reference) == survey


def test_a_tracking_link_mailed_before_the_move_still_opens() -> None:
    from walletdesk.tickets import tracking

    # What tickets/tracking.py signed at 7eba4e3.
    old_link = signing.dumps({"r": "WD-261207-ABCDEF", "c": 7}, salt="walletdesk.tickets.tracking")
    assert tracking.read_token(old_link) == ("WD-261207-ABCDEF", 7)


def test_the_sla_app_is_the_clock_every_process_uses() -> None:
    # Without it tickets would be created untimed and silently: no due times, timers or surveys.
    from walletdesk.sla import hooks
    from walletdesk.tickets import lifecycle

    assert lifecycle.clock is hooks
