from django.db import migrations, models

# The shipped macros and the categories they were written for (matched by the English part of
# their name, which 0008 seeded). "Ask for transaction hash" fits a missing or unauthorised
# transaction, not a locked account.
FITS = {
    "Ask for transaction hash": ["unauthorised_tx", "fees", "other"],
    "Account unlocked": ["login_locked", "forgot_password"],
    "Scam warning": ["scam_report", "fees", "account_stolen"],
    "Escalate to security desk": ["account_stolen", "unauthorised_tx"],
}


def seed(apps, schema_editor):
    Macro = apps.get_model("desk", "Macro")
    Category = apps.get_model("tickets", "Category")
    for prefix, slugs in FITS.items():
        categories = list(Category.objects.filter(slug__in=slugs))
        for macro in Macro.objects.filter(name__startswith=prefix):
            if not macro.categories.exists():  # an operator's own choice stays
                macro.categories.add(*categories)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0001_initial"),
        ("tickets", "0014_message_seq"),
    ]

    operations = [
        migrations.AddField(
            model_name="macro",
            name="categories",
            field=models.ManyToManyField(
                blank=True,
                help_text="Offered first on tickets of these categories. Leave empty for a reply that fits any ticket.",
                related_name="+",
                to="tickets.category",
                verbose_name="categories",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
