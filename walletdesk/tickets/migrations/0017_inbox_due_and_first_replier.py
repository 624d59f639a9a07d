"""The inbox's due-time order and the reports' first replier become stored columns (#23).

- `inbox_due`: what the inbox sorted by as a CASE expression, stored (models.inbox_due_of)
  and indexed over active tickets (`ticket_due_idx`), which also replaces `ticket_inbox_idx`
  (status, priority, created_at): the views and their counts read the new one, so a new
  ticket still writes as many indexes as before.
- `first_replied_by`: the author of the first public agent message, which the reports looked
  up per ticket with a correlated subquery.
- `ticket_period_idx`: created_at and every column the reports aggregate, replacing
  created_at's own index, so each report figure reads index entries, not kilobyte rows.

The column is added with plain SQL rather than AddField: on SQLite, AddField of a NOT NULL
column with a default rebuilds the table, copying every ticket and dropping the full-text
triggers. Both columns are then filled from what they summarise, so the inbox and the reports
read the same as before the upgrade.
"""

import datetime

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

import walletdesk.tickets.models

NEVER = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)
ACTIVE = ("new", "open", "pending", "on_hold")

ADD_COLUMN = {
    "sqlite": [
        "ALTER TABLE tickets_ticket ADD COLUMN inbox_due datetime NOT NULL DEFAULT '9999-01-01 00:00:00'"
    ],
    "postgresql": [
        "ALTER TABLE tickets_ticket ADD COLUMN inbox_due timestamp with time zone NOT NULL "
        "DEFAULT '9999-01-01 00:00:00+00'",
        "ALTER TABLE tickets_ticket ALTER COLUMN inbox_due DROP DEFAULT",
    ],
}


def add_column(apps, schema_editor):
    for sql in ADD_COLUMN.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)
    if schema_editor.connection.vendor not in ADD_COLUMN:  # any other database: the ORM's way
        Ticket = apps.get_model("tickets", "Ticket")
        schema_editor.add_field(Ticket, Ticket._meta.get_field("inbox_due"))


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE tickets_ticket DROP COLUMN inbox_due")


def fill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    never = Value(NEVER, output_field=models.DateTimeField())
    # models.inbox_due_of in SQL; tickets that are not active keep NEVER.
    Ticket.objects.filter(status__in=("new", "open")).update(
        inbox_due=Case(
            When(first_replied_at__isnull=True, then=Coalesce(F("first_reply_due"), never)),
            default=Coalesce(F("next_reply_due"), never),
            output_field=models.DateTimeField(),
        )
    )
    first = (
        Message.objects.filter(ticket=OuterRef("pk"), author_role="agent", visibility="public")
        .order_by("created_at", "id")
        .values("author_user")[:1]
    )
    Ticket.objects.filter(first_replied_at__isnull=False).update(first_replied_by=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("tickets", "0016_solved_ticket_vectors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="ticket", name="ticket_inbox_idx"),
        migrations.AddField(
            model_name="ticket",
            name="first_replied_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="ticket",
                    name="inbox_due",
                    field=walletdesk.tickets.models.InboxDueField(default=NEVER, editable=False),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        # created_at's own index gives way to ticket_period_idx, which leads with it. As in
        # 0009, without SQLite's table rebuild: only the index goes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="created_at",
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "tickets_ticket_created_at_95bb8d8e"',
                    reverse_sql=migrations.RunSQL.noop,
                )
            ],
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=[
                    "created_at",
                    "channel",
                    "category",
                    "team",
                    "assignee",
                    "status",
                    "first_replied_at",
                    "first_replied_by",
                    "solved_at",
                    "first_reply_due",
                    "resolution_due",
                ],
                name="ticket_period_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status__in", ACTIVE)),
                fields=["inbox_due", "id", "priority", "assignee", "team", "created_at"],
                name="ticket_due_idx",
            ),
        ),
    ]
