"""Full-text search over Ticket.search_text: FTS5 on SQLite, a GIN index on PostgreSQL."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS tickets_ticket_fts USING fts5(search_text, tokenize='unicode61')",
    """CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_ai AFTER INSERT ON tickets_ticket BEGIN
         INSERT INTO tickets_ticket_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    """CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_au AFTER UPDATE OF search_text ON tickets_ticket BEGIN
         UPDATE tickets_ticket_fts SET search_text = new.search_text WHERE rowid = new.id;
       END""",
    """CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_ad AFTER DELETE ON tickets_ticket BEGIN
         DELETE FROM tickets_ticket_fts WHERE rowid = old.id;
       END""",
    "INSERT INTO tickets_ticket_fts(rowid, search_text) SELECT id, search_text FROM tickets_ticket",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_ai",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_au",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_ad",
    "DROP TABLE IF EXISTS tickets_ticket_fts",
]
PG_FORWARD = [
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', search_text))"
]
PG_BACKWARD = ["DROP INDEX IF EXISTS tickets_ticket_search_gin"]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_seed_categories_and_teams")]
    operations = [migrations.RunPython(forward, backward)]
