"""Ticket.version: how many times the row was written (1 when created).

On SQLite, Django's AddField of a NOT NULL column rebuilds the table (copy, drop, rename), which
drops the full-text triggers of 0003 and rewrites every ticket. `ALTER TABLE … ADD COLUMN … NOT
NULL DEFAULT 1` adds it in place instead; the column keeps that default in SQLite's schema,
which is harmless (every insert names the column). PostgreSQL gets Django's own AddField.
"""

from django.db import migrations, models


def add_column(apps, schema_editor):
    ticket = apps.get_model("tickets", "Ticket")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ALTER TABLE tickets_ticket ADD COLUMN version integer NOT NULL DEFAULT 1")
    else:
        # `apps` is the state before this migration: the field is built here.
        field = models.IntegerField(default=1, editable=False)
        field.set_attributes_from_name("version")
        schema_editor.add_field(ticket, field)


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE tickets_ticket DROP COLUMN version")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_models_moved_to_sla_desk_registry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="ticket",
                    name="version",
                    field=models.IntegerField(default=1, editable=False),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
    ]
