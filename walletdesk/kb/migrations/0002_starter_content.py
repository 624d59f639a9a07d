"""Ship the starter articles and the two troubleshooters (walletdesk/kb/content, /troubleshooters)."""

from django.db import migrations


def load(apps, schema_editor):
    from walletdesk.kb.seed import load_starter, load_troubleshooters

    load_starter(apps)
    load_troubleshooters(apps)


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
