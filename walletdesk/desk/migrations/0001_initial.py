"""The models that moved here from tickets (#17). Their tables stay where they are: state only."""

import django.db.models.deletion
from django.db import migrations, models

APP = "desk"


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


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0011_identity_contact_proof"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
                        "db_table": "tickets_macro",
                        "ordering": ["position", "name"],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(["macro"]),
    ]
