from django.db import migrations

from walletdesk.tickets.seed import CATEGORIES, TEAMS


def seed(apps, schema_editor):
    Team = apps.get_model("tickets", "Team")
    Category = apps.get_model("tickets", "Category")
    teams = {}
    for t in TEAMS:
        teams[t["slug"]], _ = Team.objects.get_or_create(
            slug=t["slug"], defaults={"name": t["name"], "restricted": t["restricted"]}
        )
    for position, c in enumerate(CATEGORIES):
        data = {k: v for k, v in c.items() if k not in ("slug", "team")}
        Category.objects.get_or_create(
            slug=c["slug"], defaults={**data, "position": position, "default_team": teams[c["team"]]}
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
