"""Property-based fuzzing of the public API from its own OpenAPI document (schemathesis).

Whatever a client sends, the API answers with a documented status, never a server error, and
its bodies match the schema it publishes.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _allow_test_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["*"]


@pytest.mark.django_db
@schema.include(path_regex=r"^/api/v1/(tickets|verify|official-channels|inapp/tickets)").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(checks=[schemathesis.checks.not_a_server_error])
