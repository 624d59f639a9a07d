"""Sign-up works for every customer, and answers a known email like a new one.

(The same journeys through the real server, with the timing measured: test_signup_http.py.)
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.test import Client

from tests.accounts.conftest import PASSWORD, forget_allauth_limits, login
from walletdesk.accounts.models import User

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}}


def signup(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password})


def test_every_customer_can_sign_up_not_only_the_first() -> None:
    emails = ["wang@example.com", "li@example.com", "zhang@example.com"]
    responses = [signup(Client(), email) for email in emails]
    assert [r.status_code for r in responses] == [302, 302, 302]
    assert all(r["Location"] == "/accounts/confirm-email/" for r in responses)
    users = list(User.objects.filter(email__in=emails))
    assert len(users) == 3
    # The unique username column gets an opaque value each, never the empty string.
    assert len({u.username for u in users}) == 3 and "" not in {u.username for u in users}


# Committed: the worker below closes its connection between tasks (on PostgreSQL a test
# transaction would go with it).
@pytest.mark.django_db(transaction=True)
def test_signup_mails_are_queued_on_both_paths_and_sent_by_the_worker(carol: Any, settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS
    new = signup(Client(), "newcomer@example.com")
    known = signup(Client(), "carol@example.com", "another password 77")
    # The same answer, and no second account for carol's address.
    assert new.status_code == known.status_code == 302
    assert new["Location"] == known["Location"]
    assert User.objects.filter(email__iexact="carol@example.com").count() == 1
    # Neither mail was written while the customer waited: one queued task each.
    assert mail.outbox == []
    jobs = {j.task_path.rsplit(".", 1)[1]: j for j in DBTaskResult.objects.all()}
    assert set(jobs) == {"send_email_confirmation", "send_account_exists_notice"}
    assert {j.queue_name for j in jobs.values()} == {"email"}
    # Tasks take ids: no address, no confirmation key in the queue.
    for job in jobs.values():
        assert "@" not in str(job.args_kwargs)
    call_command("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", "--queue-name", "email")
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {"newcomer@example.com", "carol@example.com"}
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", sent["newcomer@example.com"].body)
    assert link, sent["newcomer@example.com"].body
    assert "already exists" in sent["carol@example.com"].body
    assert "/accounts/password/reset/" in sent["carol@example.com"].body


def test_confirm_link_from_the_mail_then_sign_in(settings: Any) -> None:
    signup(Client(), "hu@example.com")
    (message,) = mail.outbox
    path = re.search(r"http://[^/\s]+(/accounts/confirm-email/\S+/)", message.body)
    assert path, message.body
    client = Client()
    assert client.get(path.group(1)).status_code == 200  # a page with a button: scanners do not confirm
    # Unconfirmed: signing in only leads back to "confirm your address".
    assert login(Client(), "hu@example.com")["Location"] == "/accounts/confirm-email/"
    assert client.post(path.group(1)).status_code == 302
    assert login(Client(), "hu@example.com")["Location"] == "/requests/"


def test_chinese_signup_gets_the_confirmation_mail_in_chinese() -> None:
    Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        "/accounts/signup/", {"email": "chen@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    (message,) = mail.outbox
    assert re.search(r"[\u4e00-\u9fff]", message.subject + message.body), message.body


def test_migration_gives_the_blank_username_a_value(carol: Any) -> None:
    # The one account the old sign-up stored with username '' before the second one failed.
    User.objects.filter(pk=carol.pk).update(username="")
    migration = importlib.import_module("walletdesk.accounts.migrations.0004_accounts_signup_username")
    migration.fill_blank_usernames(apps, None)
    carol.refresh_from_db()
    assert carol.username.startswith("u-") and len(carol.username) > 10
    assert signup(Client(), "second@example.com").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_signing_up_with_someones_address_again_and_again_is_no_mail_bomb(carol: Any, settings: Any) -> None:
    """Sign-up answers a known address like a new one and mails its owner "someone tried to sign
    up with your address". allauth's own limit on that mail (1 per 3 minutes per address) lives
    in the per-process cache: every web process, and every 3 minutes, gave an attacker another
    mail to carol. Clearing the cache between attempts stands for those other processes and
    minutes. The shared per-address limit (RATE_LIMIT_ACCOUNT_EXISTS_MAIL) caps it; the page
    stays the same."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS
    settings.RATE_LIMIT_ACCOUNT_EXISTS_MAIL = "3/h/email"
    for n in range(6):
        forget_allauth_limits()
        response = signup(
            Client(), "carol@example.com" if n % 2 else "Carol@Example.com", f"attempt {n} pw x"
        )
        assert (response.status_code, response["Location"]) == (302, "/accounts/confirm-email/")
    notices = DBTaskResult.objects.filter(task_path__endswith="send_account_exists_notice")
    assert notices.count() == 3
    assert User.objects.filter(email__iexact="carol@example.com").count() == 1
