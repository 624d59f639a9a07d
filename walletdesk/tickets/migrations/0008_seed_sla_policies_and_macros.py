from django.db import migrations

from walletdesk.tickets.migrations._sla_seed import GENERAL, MACROS, SECURITY, SECURITY_CATEGORIES


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    Category = apps.get_model("tickets", "Category")
    Team = apps.get_model("tickets", "Team")
    Macro = apps.get_model("tickets", "Macro")
    for position, (priority, first, nxt, resolution) in enumerate(GENERAL):
        SlaPolicy.objects.get_or_create(
            name=f"Standard {priority}",
            defaults=dict(
                priority=priority,
                first_reply_minutes=first,
                next_reply_minutes=nxt,
                resolution_minutes=resolution,
                position=position,
            ),
        )
    for slug in SECURITY_CATEGORIES:
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            continue
        for priority, first, nxt, resolution in SECURITY:
            SlaPolicy.objects.get_or_create(
                name=f"Security 24/7 {slug} {priority}",
                defaults=dict(
                    priority=priority,
                    category=category,
                    first_reply_minutes=first,
                    next_reply_minutes=nxt,
                    resolution_minutes=resolution,
                    around_the_clock=True,
                    position=10,
                ),
            )
    for position, data in enumerate(MACROS):
        team = Team.objects.filter(slug=data.get("set_team", "")).first()
        Macro.objects.get_or_create(
            name=data["name"],
            defaults=dict(
                body_en=data["body_en"],
                body_zh=data["body_zh"],
                set_status=data.get("set_status", ""),
                set_priority=data.get("set_priority", ""),
                set_team=team,
                position=position,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_sla_routing_automation")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
