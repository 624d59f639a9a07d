"""A database written by main at 7eba4e3 (before issue #17's move) upgrades without losing data.

Issue #17 moves SlaPolicy, SlaCheck, EscalationRule and CsatSurvey to `sla`, Macro to `desk`,
OfficialContact and PhishingDomain to `registry`, keeping their tables and renaming their content
types so permissions and admin history follow. The fixtures in tests/fixtures/upgrade were
written by the old code (make_db.py says how). Each test copies one into a fresh database, runs
`manage.py migrate` with today's code in a subprocess, and checks:
- every row of the moved tables (and of the rows pointing at them) is still there, unchanged;
- through the new models: the tickets' SLA policy, the timers, the survey, the macro, the
  registry, the escalation rules and the team settings read back with the values written;
- the content types were renamed, not recreated: the same ids now say sla/desk/registry, so the
  group's and the user's permissions are `desk.change_macro`, `sla.view_slapolicy`…, and the
  admin log entries still open their objects;
- the new models' state matches the tables (columns, indexes, constraints, foreign keys);
- tasks queued by the old code still name a task that exists;
- `makemigrations --check` finds nothing left to write.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need
from tests.fixtures.upgrade import make_db
from tests.servers import scratch_postgres

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "upgrade"
SQLITE_FIXTURE = FIXTURES / f"main-{make_db.FIXTURE_COMMIT}.sqlite3"
PG_FIXTURE = FIXTURES / f"main-{make_db.FIXTURE_COMMIT}.pg.sql"

# Model -> its app label after the move. Each keeps its table, tickets_<model>.
MOVED = {
    "SlaPolicy": "sla",
    "SlaCheck": "sla",
    "EscalationRule": "sla",
    "CsatSurvey": "sla",
    "Macro": "desk",
    "OfficialContact": "registry",
    "PhishingDomain": "registry",
}
TABLES = [f"tickets_{model.lower()}" for model in MOVED] + ["tickets_teamsettings"]
# Rows pointing at the moved ones (or at their content types), compared as they are.
RELATED = {
    "tickets_ticket": "id, reference, sla_policy_id, status, priority, team_id",
    "django_admin_log": "id, content_type_id, object_id, object_repr, action_flag, change_message, user_id",
    "auth_group_permissions": "id, group_id, permission_id",
    "accounts_user_user_permissions": "id, user_id, permission_id",
    "accounts_user_groups": "id, user_id, group_id",
}

Query = Callable[[str], list[dict[str, Any]]]


# --- raw snapshots, before and after ------------------------------------------------------------


def _snapshot(query: Query) -> dict[str, Any]:
    """The moved tables and what points at them, read with plain SQL (no model involved)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        tables[table] = query(f"SELECT * FROM {table} ORDER BY id")
    for table, columns in RELATED.items():
        tables[table] = query(f"SELECT {columns} FROM {table} ORDER BY id")
    content_types = {
        model: query(
            f"SELECT id FROM django_content_type WHERE app_label = 'tickets' AND model = '{model.lower()}'"
        )
        for model in MOVED
    }
    permissions = query(
        "SELECT p.id, p.content_type_id, p.codename FROM auth_permission p"
        " JOIN django_content_type c ON c.id = p.content_type_id"
        " WHERE c.app_label = 'tickets' ORDER BY p.id"
    )
    return {"tables": tables, "content_types": content_types, "permissions": permissions}


def _sqlite_query(path: Path) -> Query:
    import sqlite3

    def query(sql: str) -> list[dict[str, Any]]:
        db = sqlite3.connect(path)
        try:
            cursor = db.execute(sql)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            db.close()

    return query


def _pg_query(url: str) -> Query:
    import psycopg

    def query(sql: str) -> list[dict[str, Any]]:
        with psycopg.connect(url) as conn:
            cursor = conn.execute(sql)
            names = [d.name for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    return query


# --- the new code, in a subprocess on the copied database ---------------------------------------


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SITE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="walletdesk.settings",
        PYTHONPATH=str(ROOT),
        WALLETDESK_DATA_DIR=str(data_dir),
        SECRET_KEY=make_db.NOT_A_SECRET_KEY,
        DOCUMENT_KEYS=make_db.NOT_A_DOCUMENT_KEY,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        HELPER_PROCESSES="0",
        LOG_LEVEL="WARNING",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    what = "the check script" if args[0] == "-c" else " ".join(args)
    assert done.returncode == 0, f"{what} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _upgrade_and_check(env: dict[str, str], query: Query) -> None:
    before = _snapshot(query)
    assert all(before["content_types"].values()), "the fixture is not from before the move"

    _run(env, "manage.py", "migrate", "--no-input")

    after = _snapshot(query)
    for table in TABLES + list(RELATED):
        assert after["tables"][table] == before["tables"][table], f"{table} changed in the upgrade"
    expected = {
        "content_types": {model: rows[0]["id"] for model, rows in before["content_types"].items()},
        "permissions": [
            [p["id"], p["content_type_id"], p["codename"]]
            for p in before["permissions"]
            if p["content_type_id"] in {rows[0]["id"] for rows in before["content_types"].values()}
        ],
        "ticket_policies": {
            row["reference"]: row["sla_policy_id"] for row in before["tables"]["tickets_ticket"]
        },
        "counts": {table: len(rows) for table, rows in before["tables"].items()},
    }
    out = _run(
        env,
        "-c",
        "import django, json, sys; django.setup();"
        " from tests.core.test_upgrade_from_main import check_upgraded;"
        " check_upgraded(json.loads(sys.argv[1])); print('upgrade checks passed')",
        json.dumps(expected),
    )
    assert "upgrade checks passed" in out
    out = _run(env, "manage.py", "makemigrations", "--check", "--dry-run")
    assert "No changes detected" in out, out
    _run(env, "manage.py", "migrate", "--check")


def check_upgraded(expected: dict[str, Any]) -> None:
    """Run inside the upgraded project (django.setup() done): read everything back via the ORM."""
    from django.apps import apps
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils.module_loading import import_string

    model = {name: apps.get_model(label, name) for name, label in MOVED.items()}
    Ticket = apps.get_model("tickets", "Ticket")
    User = apps.get_model("accounts", "User")
    teams = [m for m in apps.get_models() if m.__name__ == "TeamSettings"]
    assert len(teams) == 1, teams
    TeamSettings = teams[0]

    # Same tables, same row counts, read through the new models.
    for name, cls in model.items():
        table = f"tickets_{name.lower()}"
        assert cls._meta.db_table == table, (name, cls._meta.db_table)
        assert cls.objects.count() == expected["counts"][table], name
    assert TeamSettings.objects.count() == expected["counts"]["tickets_teamsettings"]

    # The new models' state matches the tables the old code made: columns, named indexes and
    # constraints, the indexes of indexed fields, and the foreign keys (to the same tables).
    with connection.cursor() as cursor:
        for name, cls in [*model.items(), ("Ticket", Ticket), ("TeamSettings", TeamSettings)]:
            table = cls._meta.db_table
            found = connection.introspection.get_constraints(cursor, table)
            columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
            fields = cls._meta.local_concrete_fields
            assert columns == {f.column for f in fields}, (name, columns ^ {f.column for f in fields})
            for item in [*cls._meta.indexes, *cls._meta.constraints]:
                assert item.name in found, (name, item.name)
            for f in fields:
                if f.db_index and not f.unique and not f.primary_key:
                    assert any(c["index"] and c["columns"][:1] == [f.column] for c in found.values()), (
                        name,
                        f.name,
                        "index",
                    )
                if f.remote_field is not None and f.db_constraint:
                    target = (f.related_model._meta.db_table, f.target_field.column)
                    assert any(
                        c["columns"] == [f.column] and tuple(c["foreign_key"] or ()) == target
                        for c in found.values()
                    ), (name, f.name, "foreign key")

    # The tickets' SLA policy resolves to the new model, to the same row.
    field = Ticket._meta.get_field("sla_policy")
    assert field.related_model is model["SlaPolicy"], field.related_model
    with_policy = 0
    for ticket in Ticket.objects.select_related("sla_policy"):
        assert ticket.sla_policy_id == expected["ticket_policies"][ticket.reference], ticket.reference
        if ticket.sla_policy_id is not None:
            assert isinstance(ticket.sla_policy, model["SlaPolicy"])
            with_policy += 1
    assert with_policy >= 2

    # Timers: every ticket of SLA_TICKETS has its armed ones, the first run and claimed.
    for subject in make_db.SLA_TICKETS:
        ticket = Ticket.objects.get(subject=subject)
        checks = list(ticket.sla_checks.order_by("run_at", "pk"))
        assert len(checks) >= 3, (subject, checks)
        assert checks[0].kind == "first_reply_warn" and checks[0].claimed_at and checks[0].outcome
        assert {c.ticket_id for c in checks} == {ticket.pk}

    survey = model["CsatSurvey"].objects.get(ticket__subject=make_db.CSAT["subject"])
    assert (survey.rating, survey.comment) == (make_db.CSAT["rating"], make_db.CSAT["comment"])
    assert survey.answered_at is not None and survey.ticket.status == "solved"
    assert list(survey.ticket.surveys.all()) == [survey]

    macro = model["Macro"].objects.get(name=make_db.MACRO["name"])
    for key in ("body_en", "body_zh", "set_status", "set_priority", "position"):
        assert getattr(macro, key) == make_db.MACRO[key], key
    assert macro.set_team is not None and macro.set_team.slug == make_db.MACRO["set_team"]

    for data in make_db.ESCALATION_RULES:
        rule = model["EscalationRule"].objects.get(name=data["name"])
        assert (rule.clock, rule.priority, rule.action, rule.active, rule.position) == (
            data["clock"],
            data["priority"],
            data["action"],
            data["active"],
            data["position"],
        )
        assert (rule.team.slug if rule.team else None) == data["team"]
        assert (rule.move_to_team.slug if rule.move_to_team else None) == data["move_to_team"]
        assert (rule.assign_to.email if rule.assign_to else None) == data["assign_to"]

    retired = model["OfficialContact"].objects.get(value=make_db.RETIRED_CONTACT["value"])
    for key, value in make_db.RETIRED_CONTACT.items():
        assert getattr(retired, key) == value, key
    assert model["OfficialContact"].objects.filter(current=True).count() >= 6  # the demo's

    listed = set(model["PhishingDomain"].objects.values_list("domain", "list_type"))
    wanted = {
        (domain, kind.removesuffix("list"))
        for lists in make_db.PHISHING_LISTS.values()
        for kind, domains in lists.items()
        for domain in domains
    }
    assert listed == wanted, listed ^ wanted

    settings = TeamSettings.objects.get(team__slug=make_db.TEAM_SETTINGS["team"])
    for key in ("timezone", "weekly_hours", "holiday_countries", "days_off", "assignment"):
        assert getattr(settings, key) == make_db.TEAM_SETTINGS[key], key
    assert settings.last_assigned.email == make_db.TEAM_SETTINGS["last_assigned"]

    # Content types renamed in place: same ids, new labels, none left (or made anew) elsewhere.
    for name, label in MOVED.items():
        content_type = ContentType.objects.get_for_model(model[name])
        assert content_type.app_label == label, (name, content_type.app_label)
        assert content_type.pk == expected["content_types"][name], (name, "content type recreated")
        assert ContentType.objects.filter(model=name.lower()).count() == 1, name
    moved = set(expected["content_types"].values())
    assert [
        [p.pk, p.content_type_id, p.codename]
        for p in Permission.objects.filter(content_type_id__in=moved).order_by("pk")
    ] == expected["permissions"]

    # Permissions follow: through the group (alice) and given directly (bob).
    def new_name(app_label: str, codename: str) -> str:
        model_name = codename.split("_", 1)[1]
        return f"{next(lb for n, lb in MOVED.items() if n.lower() == model_name)}.{codename}"

    alice = User.objects.get(email=make_db.AGENT_EMAIL)
    bob = User.objects.get(email=make_db.SECURITY_EMAIL)
    assert list(alice.groups.values_list("name", flat=True)) == [make_db.GROUP_NAME]
    group = Group.objects.get(name=make_db.GROUP_NAME)
    assert {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()} == {
        new_name(*p) for p in make_db.GROUP_PERMISSIONS
    }
    for perm in make_db.GROUP_PERMISSIONS:
        assert alice.has_perm(new_name(*perm)), new_name(*perm)
        assert not alice.has_perm(".".join(perm)), ".".join(perm)
    assert alice.has_perm("desk.change_macro") and alice.has_perm("sla.view_slapolicy")
    for perm in make_db.USER_PERMISSIONS:
        assert bob.has_perm(new_name(*perm)), new_name(*perm)

    # The admin history still opens what it points at, under the new label.
    entries = list(LogEntry.objects.order_by("pk"))
    assert len(entries) == len(make_db.LOG_ENTRIES)
    for entry, (name, flag, _) in zip(entries, make_db.LOG_ENTRIES, strict=True):
        target = entry.get_edited_object()
        assert isinstance(target, model[name]) and entry.action_flag == flag, (entry, target)
        assert entry.user.email == make_db.ADMIN_EMAIL
        assert entry.get_admin_url().endswith(f"/{MOVED[name]}/{name.lower()}/{target.pk}/change/"), (
            entry.get_admin_url()
        )

    # New rows still get fresh ids (the PostgreSQL sequences followed the tables).
    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for name, fields in {
                "Macro": {"name": "after upgrade", "body_en": "x", "body_zh": "x"},
                "OfficialContact": {
                    "kind": "domain",
                    "value": "after.example",
                    "label_en": "x",
                    "label_zh": "x",
                },
                "PhishingDomain": {"domain": "after.example", "list_type": "block", "source": "after"},
                "SlaPolicy": {"name": "after upgrade", "priority": "low", "first_reply_minutes": 60},
                "EscalationRule": {"name": "after upgrade", "action": "notify_lead"},
            }.items():
                last = model[name].objects.order_by("-pk").values_list("pk", flat=True).first()
                row = model[name].objects.create(**fields)
                assert row.pk > (last or 0), (name, row.pk, last)
            raise Rollback
    except Rollback:
        pass

    # Tasks the old code queued (SLA timers, surveys, notifications) still name a task.
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    queued = set(DBTaskResult.objects.filter(status="READY").values_list("task_path", flat=True))
    assert queued, "the fixture has queued tasks"
    lost = []
    for path in sorted(queued):
        try:
            import_string(path)
        except ImportError as exc:
            lost.append(f"{path}: {exc}")
    assert not lost, "queued tasks no longer resolve: " + "; ".join(lost)


# --- the tests ----------------------------------------------------------------------------------


def test_upgrade_sqlite_database_from_main(tmp_path: Path) -> None:
    database = tmp_path / "walletdesk.sqlite3"  # where settings put it under WALLETDESK_DATA_DIR
    shutil.copyfile(SQLITE_FIXTURE, database)
    _upgrade_and_check(_env(tmp_path, None), _sqlite_query(database))


@pytest.fixture
def upgrade_database_url() -> Iterator[str]:
    need(shutil.which("psql") is not None, "psql")
    with scratch_postgres(f"_upgrade_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.mark.postgres
def test_upgrade_postgres_database_from_main(tmp_path: Path, upgrade_database_url: str) -> None:
    loaded = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", upgrade_database_url, "-f", str(PG_FIXTURE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr
    _upgrade_and_check(_env(tmp_path, upgrade_database_url), _pg_query(upgrade_database_url))
