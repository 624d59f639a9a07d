"""Every user gets a unique opaque username; the one sign-up stored with '' gets one too.

Sign-up (allauth, ACCOUNT_USER_MODEL_USERNAME_FIELD = None) left the unique username column
empty, so the first customer got '' and every later one a UNIQUE failure. At most one row can
hold '' (the column is unique); it is given a fresh value so the admin can edit it again.
"""

import secrets

from django.db import migrations, models

import walletdesk.accounts.models


def fill_blank_usernames(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(username="").only("pk"):
        User.objects.filter(pk=user.pk).update(username="u-" + secrets.token_hex(12))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_identity_document_reviewers")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                default=walletdesk.accounts.models.new_username,
                error_messages={"unique": "A user with that username already exists."},
                max_length=150,
                unique=True,
                validators=[walletdesk.accounts.models.User.username_validator],
                verbose_name="username",
            ),
        ),
        migrations.RunPython(fill_blank_usernames, migrations.RunPython.noop),
    ]
