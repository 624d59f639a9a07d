"""Put the shipped triage rules in the database, where admins edit them."""

from django.db import migrations


def seed(apps, schema_editor):
    from walletdesk.tickets.triage import load_default_rules

    Rule = apps.get_model("tickets", "TriageRuleRecord")
    Category = apps.get_model("tickets", "Category")
    if Rule.objects.exists():
        return
    known = set(Category.objects.values_list("slug", flat=True))
    Rule.objects.bulk_create(
        Rule(
            category_id=rule.category,
            keywords="\n".join(rule.keywords),
            weight=rule.weight,
            language=rule.language,
            priority=rule.priority or "",
            negatable=rule.negatable,
        )
        for rule in load_default_rules()
        if rule.category in known
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_triage_rule_negatable")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
