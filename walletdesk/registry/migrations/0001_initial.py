"""The models that moved here from tickets (#17). Their tables stay where they are: state only."""

import django.utils.timezone
from django.db import migrations, models

APP = "registry"


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
        ("tickets", "0011_identity_contact_proof"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OfficialContact",
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
                                    ("domain", "Website"),
                                    ("email", "Email"),
                                    ("phone", "Phone"),
                                    ("wechat", "WeChat"),
                                    ("weibo", "Weibo"),
                                    ("x", "X (Twitter)"),
                                    ("telegram", "Telegram"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "value",
                            models.CharField(
                                help_text="Domain, address, number or handle, e.g. token.im, @imToken.",
                                max_length=200,
                            ),
                        ),
                        ("label_en", models.CharField(max_length=120)),
                        ("label_zh", models.CharField(max_length=120)),
                        ("url", models.URLField(blank=True)),
                        (
                            "current",
                            models.BooleanField(
                                default=True, help_text="Former official contacts stay listed as retired."
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "tickets_officialcontact",
                        "ordering": ["position", "kind", "value"],
                        "constraints": [
                            models.UniqueConstraint(fields=("kind", "value"), name="uniq_official_contact")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="PhishingDomain",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("domain", models.CharField(max_length=253)),
                        (
                            "list_type",
                            models.CharField(
                                choices=[
                                    ("block", "blocklist"),
                                    ("allow", "allowlist"),
                                    ("fuzzy", "fuzzylist"),
                                ],
                                max_length=5,
                            ),
                        ),
                        ("source", models.CharField(max_length=80)),
                        ("imported_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "tickets_phishingdomain",
                        "indexes": [models.Index(fields=["source"], name="phishing_source_idx")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("domain", "list_type"), name="uniq_phishing_domain"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(["officialcontact", "phishingdomain"]),
    ]
