# SLA clock fields, policies, timers, escalation and routing rules, macros, surveys (issue 6).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import walletdesk.tickets.models


def recreate_fts_triggers(apps, schema_editor):
    # Adding a foreign key to tickets_ticket makes SQLite rebuild the table, which drops the
    # full-text triggers of 0003 (the FTS table and its rows survive: ids are kept).
    if schema_editor.connection.vendor != "sqlite":
        return
    from importlib import import_module

    fts = import_module("walletdesk.tickets.migrations.0003_ticket_full_text")
    for sql in fts.SQLITE_FORWARD:
        if sql.lstrip().startswith("CREATE TRIGGER"):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_phishing_domain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="awaiting_reply_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ticket",
            name="followed_up_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ticket",
            name="sla_paused_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ticket",
            name="sla_pauses",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name="EscalationRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "clock",
                    models.CharField(
                        choices=[
                            ("any", "Any clock"),
                            ("first_reply", "First reply"),
                            ("next_reply", "Next reply"),
                            ("resolution", "Resolution"),
                        ],
                        default="any",
                        max_length=16,
                    ),
                ),
                (
                    "priority",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("low", "Low"),
                            ("normal", "Normal"),
                            ("high", "High"),
                            ("urgent", "Urgent"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("notify_lead", "Notify the team lead"),
                            ("raise_priority", "Raise the priority one step"),
                            ("reassign", "Reassign"),
                        ],
                        max_length=16,
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "assign_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "move_to_team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.team",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.team",
                    ),
                ),
            ],
            options={
                "verbose_name": "escalation rule",
                "ordering": ["position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="Macro",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("body_en", models.TextField()),
                ("body_zh", models.TextField()),
                (
                    "set_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("new", "New"),
                            ("open", "Open"),
                            ("pending", "Pending (waiting on you)"),
                            ("on_hold", "On hold"),
                            ("solved", "Solved"),
                            ("closed", "Closed"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "set_priority",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("low", "Low"),
                            ("normal", "Normal"),
                            ("high", "High"),
                            ("urgent", "Urgent"),
                        ],
                        max_length=10,
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "set_team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.team",
                    ),
                ),
            ],
            options={
                "verbose_name": "macro",
                "ordering": ["position", "name"],
            },
        ),
        migrations.CreateModel(
            name="RoutingRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "channel",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("web", "Web"),
                            ("inapp", "In-app"),
                            ("email", "Email"),
                            ("chat", "Chat"),
                            ("wechat", "WeChat"),
                            ("weibo", "Weibo"),
                            ("x", "X"),
                            ("telegram", "Telegram"),
                            ("phone", "Phone"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        blank=True, choices=[("", "any"), ("zh", "Chinese"), ("en", "English")], max_length=10
                    ),
                ),
                (
                    "keywords",
                    models.TextField(blank=True, help_text="One per line; any one matching is enough."),
                ),
                ("active", models.BooleanField(default=True)),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="tickets.category",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tickets.team"
                    ),
                ),
            ],
            options={
                "verbose_name": "routing rule",
                "ordering": ["position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="SlaPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "priority",
                    models.CharField(
                        choices=[
                            ("low", "Low"),
                            ("normal", "Normal"),
                            ("high", "High"),
                            ("urgent", "Urgent"),
                        ],
                        max_length=10,
                        verbose_name="priority",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("web", "Web"),
                            ("inapp", "In-app"),
                            ("email", "Email"),
                            ("chat", "Chat"),
                            ("wechat", "WeChat"),
                            ("weibo", "Weibo"),
                            ("x", "X"),
                            ("telegram", "Telegram"),
                            ("phone", "Phone"),
                        ],
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                ("first_reply_minutes", models.PositiveIntegerField(verbose_name="first reply (minutes)")),
                (
                    "next_reply_minutes",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="next reply (minutes)"),
                ),
                (
                    "resolution_minutes",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="resolution (minutes)"),
                ),
                (
                    "around_the_clock",
                    models.BooleanField(
                        default=False,
                        help_text="Count calendar time, not the team's business hours.",
                        verbose_name="24/7",
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="tickets.category",
                    ),
                ),
            ],
            options={
                "verbose_name": "SLA policy",
                "verbose_name_plural": "SLA policies",
                "ordering": ["position", "pk"],
            },
        ),
        migrations.AddField(
            model_name="ticket",
            name="sla_policy",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tickets.slapolicy",
            ),
        ),
        migrations.CreateModel(
            name="TeamSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "timezone",
                    models.CharField(default="Asia/Shanghai", max_length=64, verbose_name="time zone"),
                ),
                (
                    "weekly_hours",
                    models.JSONField(
                        default=walletdesk.tickets.models._default_weekly_hours,
                        help_text='{"0": [["09:00", "18:00"]], ...}: weekday 0 = Monday; missing days are closed.',
                        verbose_name="weekly hours",
                    ),
                ),
                (
                    "holiday_countries",
                    models.JSONField(
                        blank=True,
                        default=walletdesk.tickets.models._default_countries,
                        help_text='e.g. ["CN", "HK"]',
                        verbose_name="public holidays of",
                    ),
                ),
                (
                    "days_off",
                    models.JSONField(
                        blank=True, default=list, help_text='["2026-12-24"]', verbose_name="custom days off"
                    ),
                ),
                (
                    "assignment",
                    models.CharField(
                        choices=[
                            ("none", "Leave unassigned"),
                            ("round_robin", "Round-robin"),
                            ("least_open", "Fewest open tickets"),
                        ],
                        default="none",
                        max_length=16,
                        verbose_name="assignment",
                    ),
                ),
                (
                    "last_assigned",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="settings",
                        to="tickets.team",
                    ),
                ),
            ],
            options={
                "verbose_name": "team settings",
                "verbose_name_plural": "team settings",
            },
        ),
        migrations.CreateModel(
            name="CsatSurvey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "rating",
                    models.CharField(
                        blank=True,
                        choices=[("good", "Good, I'm satisfied"), ("bad", "Bad, I'm unsatisfied")],
                        max_length=4,
                    ),
                ),
                ("comment", models.TextField(blank=True)),
                ("answered_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="surveys",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["sent_at"], name="csat_sent_idx")],
            },
        ),
        migrations.CreateModel(
            name="SlaCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("first_reply_warn", "First Reply Warn"),
                            ("first_reply_breach", "First Reply Breach"),
                            ("next_reply_warn", "Next Reply Warn"),
                            ("next_reply_breach", "Next Reply Breach"),
                            ("resolution_warn", "Resolution Warn"),
                            ("resolution_breach", "Resolution Breach"),
                            ("pending_reminder", "Pending Reminder"),
                            ("pending_autosolve", "Pending Autosolve"),
                        ],
                        max_length=24,
                    ),
                ),
                ("due_at", models.DateTimeField()),
                ("run_at", models.DateTimeField()),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("outcome", models.CharField(blank=True, max_length=40)),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sla_checks",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["claimed_at", "run_at"], name="sla_check_due_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("ticket", "kind", "due_at"), name="uniq_sla_check")
                ],
            },
        ),
        migrations.RunPython(recreate_fts_triggers, migrations.RunPython.noop),
    ]
