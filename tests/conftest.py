"""Shared fixtures: the named personas every access test uses, and service guards.

Personas
- carol: a customer with an account.
- dave: another customer.
- alice: an agent in the General team.
- bob: an agent in the Security desk (a restricted team).
- erin: an agent in no team.
- root: an admin.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: bool, what: str) -> None:
    """Skip locally when a service is missing; in CI a missing service is a failure, never a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> Iterator[None]:
    """On SQLite the test database is a file (in RAM under /dev/shm when there is one), not
    Django's shared in-memory database. In memory, the live test server's request threads share
    one connection: a page's background request (a poll, a live preview) racing a form post
    failed there with InterfaceError, under load only, in CI twice. A file gives each thread its
    own connection, as a real server has."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "sqlite" not in db["ENGINE"]:
        yield
        return
    shm = "/dev/shm"
    folder = tempfile.mkdtemp(prefix="walletdesk-test-", dir=shm if os.access(shm, os.W_OK) else None)
    db.setdefault("TEST", {})["NAME"] = os.path.join(folder, "test.sqlite3")
    yield
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _close_sync_thread_connections(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped, close the database connections of the web
    process's sync threads (core.asgi: the real ASGI application, `run_sync`): each thread keeps
    one, and PostgreSQL refuses to drop a database while any is open.

    Once, at the end of the session, and blocking: run after every test through `asyncio.run`,
    it failed the teardown of every browser test once a test had started the threads, since
    Playwright's sync API keeps an event loop running in the test's thread and `asyncio.run`
    refuses to start a second one (CI rehearsal: 18 teardown errors)."""
    yield
    import sys
    import warnings

    asgi = sys.modules.get("walletdesk.core.asgi")
    if asgi is None or not asgi._sync_pool._threads:
        return
    with django_db_blocker.unblock():
        try:
            asgi.close_connections()
        except Exception as exc:  # a thread still busy: the drop below then says which database
            warnings.warn(f"could not close the sync threads' connections: {exc!r}", stacklevel=1)


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    # Tasks run inline in tests unless a test asks for the database queue explicitly.
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "email", "sla"],
        }
    }


@pytest.fixture(autouse=True)
def _no_helpers(settings: Any) -> None:
    # No forked helper processes unless a test asks (tests/email/test_helpers.py): most tests
    # run in a transaction a helper could not see into anyway (core.helpers).
    settings.HELPER_PROCESSES = 0


@pytest.fixture(autouse=True)
def _no_first_answer(settings: Any) -> None:
    # The first answer (#22) adds a bot line to a ticket whose text an article answers; tests
    # of other features count messages and frames. tests/kb/test_first_answer.py turns it on.
    settings.FIRST_ANSWER = False


@pytest.fixture(autouse=True)
def _no_dense(settings: Any) -> None:
    # No embedding task (the model costs ~1 s per article on this machine) unless a test asks
    # for dense retrieval (tests/kb/test_hybrid.py, tests/desk/test_similar_tickets.py).
    settings.KB_DENSE = False


@pytest.fixture(autouse=True)
def _no_live_bridge(settings: Any) -> None:
    # The live layer's bridge between web processes (core.live) writes from a thread of its
    # own; in one test process there is nothing to bridge. The real-server tests run it.
    settings.LIVE_BRIDGE = False


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _no_guest_limits(settings: Any) -> None:
    # Many tests open tickets from one address as guests; the limits' own tests set them.
    settings.RATE_LIMIT_GUEST_TICKET = ""
    settings.RATE_LIMIT_GUEST_REPLY = ""
    settings.RATE_LIMIT_GUEST_CHAT = ""


@pytest.fixture(autouse=True)
def _fresh_rate_counters() -> None:
    # Redis outlives a test's rolled-back transaction: start every test with no counts there.
    from django.conf import settings as conf

    if conf.REDIS_URL:
        from walletdesk.core import ratelimit

        ratelimit.forget_all()


@pytest.fixture(autouse=True)
def _release_stray_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test whose database is flushed rather than rolled back (transaction=True, a live
    server), collect what the test's threads left unreferenced before the flush: a dropped
    SQLite connection still open on the shared in-memory database holds its table lock until
    it is finalised, and the flush then fails with "database table is locked" (seen at the
    teardown of an e2e identity test). Set up after pytest-django's database fixture, so this
    runs before its teardown. Only those tests pay for the collection."""
    yield
    marker = request.node.get_closest_marker("django_db")
    flushed = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if flushed or {"live_server", "transactional_db"} & set(request.fixturenames):
        import gc

        gc.collect()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    from walletdesk.connectors.email import outbound
    from walletdesk.kb import hybrid
    from walletdesk.registry import lookups as registry
    from walletdesk.sla import clock as sla
    from walletdesk.tickets import actions, routing, screening, similar

    caches = (
        registry.forget,
        screening.forget_rules,
        actions.forget_categories,
        sla.forget,
        routing.forget,
        outbound.forget_mailboxes,
        hybrid.forget,
        similar.forget,
    )
    for forget in caches:
        forget()
    yield
    for forget in caches:
        forget()


# Every data migration that seeds rows, in migration order: (module, function).
SEED_MIGRATIONS = [
    ("walletdesk.tickets.migrations.0002_seed_categories_and_teams", "seed"),
    ("walletdesk.tickets.migrations.0005_seed_triage_rules", "seed"),
    ("walletdesk.tickets.migrations.0008_seed_sla_policies_and_macros", "seed"),
    ("walletdesk.desk.migrations.0002_macro_categories", "seed"),
    ("walletdesk.accounts.migrations.0003_identity_document_reviewers", "create_group"),
    ("walletdesk.kb.migrations.0002_starter_content", "load"),
]


class LiveApps:
    """The live app registry, as a data migration written before #17 asks for it.

    Seed migrations are replayed with the live registry after a flush; those written while the
    SLA models and macros lived in tickets ask for ("tickets", "SlaPolicy").
    """

    MOVED = {
        "slapolicy": "sla",
        "slacheck": "sla",
        "escalationrule": "sla",
        "csatsurvey": "sla",
        "macro": "desk",
    }
    MOVED |= {"officialcontact": "registry", "phishingdomain": "registry"}

    def get_model(self, app_label: str, model_name: str) -> Any:
        from django.apps import apps

        if app_label == "tickets":
            app_label = self.MOVED.get(model_name.lower(), app_label)
        return apps.get_model(app_label, model_name)


def ensure_seed_data() -> None:
    """Put back what the data migrations seed, after a transactional test flushed it.

    pytest-django runs transactional tests last and flushes the database after each, which
    also removes the migrations' categories, teams and triage rules. (serialized_rollback
    would restore them, but collides with content types recreated by the flush.)
    """
    import importlib

    from walletdesk.tickets.models import Category

    if Category.objects.exists():
        return
    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(LiveApps(), None)


@pytest.fixture
def seeded(db: None) -> None:
    ensure_seed_data()


def _make_user(
    email: str, *, staff: bool = False, superuser: bool = False, teams: tuple[str, ...] = ()
) -> Any:
    from allauth.account.models import EmailAddress

    from walletdesk.accounts.models import User
    from walletdesk.tickets.models import Team

    ensure_seed_data()
    user = User.objects.create_user(email=email, password="correct horse battery staple 9")
    user.is_staff = staff or superuser
    user.is_superuser = superuser
    user.display_name = email.split("@")[0].title()
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    for slug in teams:
        Team.objects.get(slug=slug).members.add(user)
    return user


@pytest.fixture
def carol(db: None) -> Any:
    return _make_user("carol@example.com")


@pytest.fixture
def dave(db: None) -> Any:
    return _make_user("dave@example.com")


@pytest.fixture
def alice(db: None) -> Any:
    return _make_user("alice@desk.test", staff=True, teams=("general",))


@pytest.fixture
def bob(db: None) -> Any:
    return _make_user("bob@desk.test", staff=True, teams=("security",))


@pytest.fixture
def erin(db: None) -> Any:
    return _make_user("erin@desk.test", staff=True)


@pytest.fixture
def root(db: None) -> Any:
    return _make_user("root@desk.test", superuser=True)


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def as_user() -> Any:
    return client_for


@pytest.fixture
def postgres(db: None) -> None:
    """For tests that only mean something on PostgreSQL (row locks, concurrent workers)."""
    from django.db import connection

    need(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture
def redis_url() -> str:
    from django.conf import settings

    url = getattr(settings, "REDIS_URL", "")
    need(bool(url), "Redis (set REDIS_URL=redis://…)")
    return str(url)
