import django.db.models.deletion
from django.db import migrations, models

# Indexes no query uses, written on every new ticket: first_reply_due (the inbox sorts by a
# CASE over it), tx_hash (search reads search_text) and sla_policy (only a policy's deletion
# looks tickets up by it). Names are Django's, the same on both backends; "_like" is
# PostgreSQL's pattern-ops twin of the varchar index.
UNUSED = [
    "tickets_ticket_first_reply_due_c13795d2",
    "tickets_ticket_tx_hash_20b66ebb",
    "tickets_ticket_tx_hash_20b66ebb_like",
    "tickets_ticket_sla_policy_id_ead5adac",
]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_leaner_indexes"),
    ]

    operations = [
        # As in 0009: the model change without SQLite's table rebuild (which would copy every
        # ticket and drop the full-text triggers); only the indexes themselves go.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="first_reply_due",
                    field=models.DateTimeField(blank=True, null=True),
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
                        to="tickets.slapolicy",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="tx_hash",
                    field=models.CharField(blank=True, max_length=128, verbose_name="transaction hash"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in UNUSED],
                    reverse_sql=migrations.RunSQL.noop,
                )
            ],
        ),
    ]
