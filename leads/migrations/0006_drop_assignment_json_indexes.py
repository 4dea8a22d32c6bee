"""Drop the JSON-expression indexes and statistics on `assigned` entries (0002 and 0004).

leads.metrics now reads Lead.received_by (0005) for "received" and "saved" instead of the
first assignee in the JSON of the timeline, so nothing queries those expressions any more and
they only slowed down every timeline insert. PostgreSQL only, like the migrations that made them.
"""

from django.db import migrations

DROP = [
    "DROP STATISTICS IF EXISTS activity_assignment_stats",
    "DROP INDEX IF EXISTS activity_initial_assign_owner",
    "DROP INDEX IF EXISTS activity_assigned_lead",
]

RESTORE = [
    "CREATE INDEX IF NOT EXISTS activity_initial_assign_owner ON leads_activity "
    "(((data ->> 'to_owner')::integer), occurred_at) WHERE kind = 'assigned' AND (data ->> 'from_owner') IS NULL",
    "CREATE INDEX IF NOT EXISTS activity_assigned_lead ON leads_activity "
    "(lead_id, ((data ->> 'to_owner')::integer)) WHERE kind = 'assigned' AND (data ->> 'from_owner') IS NULL",
    "CREATE STATISTICS IF NOT EXISTS activity_assignment_stats ON (data ->> 'from_owner'), "
    "((data ->> 'to_owner')::integer) FROM leads_activity",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_lead_received_by")]

    operations = [migrations.RunPython(_run(DROP), _run(RESTORE), elidable=False)]
