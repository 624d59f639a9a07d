"""SLA, macros and the official registry moved to their own apps (#17); their tables stay.

State only: sla, desk and registry now own these models under the same table names.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("desk", "0001_initial"),
        ("registry", "0001_initial"),
        ("tickets", "0011_identity_contact_proof"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name="csatsurvey",
                    name="csat_sent_idx",
                ),
                migrations.RemoveField(
                    model_name="escalationrule",
                    name="assign_to",
                ),
                migrations.RemoveField(
                    model_name="escalationrule",
                    name="move_to_team",
                ),
                migrations.RemoveField(
                    model_name="escalationrule",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="macro",
                    name="set_team",
                ),
                migrations.RemoveConstraint(
                    model_name="officialcontact",
                    name="uniq_official_contact",
                ),
                migrations.DeleteModel(
                    name="OfficialContact",
                ),
                migrations.RemoveIndex(
                    model_name="phishingdomain",
                    name="phishing_source_idx",
                ),
                migrations.RemoveConstraint(
                    model_name="phishingdomain",
                    name="uniq_phishing_domain",
                ),
                migrations.DeleteModel(
                    name="PhishingDomain",
                ),
                migrations.RemoveIndex(
                    model_name="slacheck",
                    name="sla_check_due_idx",
                ),
                migrations.RemoveConstraint(
                    model_name="slacheck",
                    name="uniq_sla_check",
                ),
                migrations.RemoveField(
                    model_name="slapolicy",
                    name="category",
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="sla_policy",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="sla.slapolicy",
                    ),
                ),
                migrations.RemoveField(
                    model_name="csatsurvey",
                    name="ticket",
                ),
                migrations.DeleteModel(
                    name="EscalationRule",
                ),
                migrations.DeleteModel(
                    name="Macro",
                ),
                migrations.RemoveField(
                    model_name="slacheck",
                    name="ticket",
                ),
                migrations.DeleteModel(
                    name="SlaPolicy",
                ),
                migrations.DeleteModel(
                    name="CsatSurvey",
                ),
                migrations.DeleteModel(
                    name="SlaCheck",
                ),
            ],
            database_operations=[],
        ),
    ]
