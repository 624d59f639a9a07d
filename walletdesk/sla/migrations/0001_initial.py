"""The models that moved here from tickets (#17). Their tables stay where they are: state only."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APP = "sla"


def move_content_types(models):
    """Give the moved models' content types their new app, so permissions and admin history follow.

    A fresh database never had the old ones; one created before the move keeps its rows.
    """

    def forwards(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not content_types.objects.filter(app_label=APP, model=model).exists():
                content_types.objects.filter(app_label="tickets", model=model).update(app_label=APP)

    def backwards(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not content_types.objects.filter(app_label="tickets", model=model).exists():
                content_types.objects.filter(app_label=APP, model=model).update(app_label="tickets")

    return migrations.RunPython(forwards, backwards)


# Tasks queued before the move (an SLA timer armed for next week, a survey about to go out) name
# the task by its old module path; the worker could not import them any more.
TASK_PATHS = [
    ("walletdesk.tickets.sla_tasks.", "walletdesk.sla.timers."),
    ("walletdesk.tickets.csat.", "walletdesk.sla.csat."),
]


def rename_task_paths(apps, schema_editor):
    tasks = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in TASK_PATHS:
        for task in tasks.objects.filter(task_path__startswith=old).only("pk", "task_path"):
            tasks.objects.filter(pk=task.pk).update(task_path=new + task.task_path[len(old) :])


def restore_task_paths(apps, schema_editor):
    tasks = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in TASK_PATHS:
        for task in tasks.objects.filter(task_path__startswith=new).only("pk", "task_path"):
            tasks.objects.filter(pk=task.pk).update(task_path=old + task.task_path[len(new) :])


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_tasks_database", "0001_initial"),
        ("tickets", "0011_identity_contact_proof"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
                        "db_table": "tickets_escalationrule",
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
                        (
                            "first_reply_minutes",
                            models.PositiveIntegerField(verbose_name="first reply (minutes)"),
                        ),
                        (
                            "next_reply_minutes",
                            models.PositiveIntegerField(
                                blank=True, null=True, verbose_name="next reply (minutes)"
                            ),
                        ),
                        (
                            "resolution_minutes",
                            models.PositiveIntegerField(
                                blank=True, null=True, verbose_name="resolution (minutes)"
                            ),
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
                        "db_table": "tickets_slapolicy",
                        "ordering": ["position", "pk"],
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
                        "db_table": "tickets_csatsurvey",
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
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sla_checks",
                                to="tickets.ticket",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tickets_slacheck",
                        "indexes": [models.Index(fields=["claimed_at", "run_at"], name="sla_check_due_idx")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("ticket", "kind", "due_at"), name="uniq_sla_check"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(["slapolicy", "slacheck", "escalationrule", "csatsurvey"]),
        migrations.RunPython(rename_task_paths, restore_task_paths),
    ]
