"""Property-based fuzzing of the public API from its own OpenAPI document (schemathesis).

Whatever a client sends, the API answers with a documented status, never a server error, and
its bodies match the schema it publishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _allow_test_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    # The WSGI app is called directly, not through Django's test client, so the request signals
    # would close the connection that holds the test's transaction (as the test client avoids
    # too): on PostgreSQL that ends the test with "the connection is closed".
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.include(path_regex=r"^/api/v1/(tickets|verify|official-channels|inapp/tickets)").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(checks=[schemathesis.checks.not_a_server_error])
