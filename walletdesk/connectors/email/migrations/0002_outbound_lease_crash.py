from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("email_channel", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundemail",
            name="lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
