"""Indexes for the metrics queries (leads.metrics), measured with `manage.py bench_leads`.

They are created with SQL rather than Meta.indexes because leads/models.py belongs to the
leads-core work and these indexes serve only the metrics: declaring them on the model from here
would make makemigrations want to drop them. PostgreSQL only: two of them index an expression
on the JSON `data` of assignment entries; SQLite (the laptop default) does without them.

- activity_initial_assign_owner: "leads received by these reps": assignment entries by
  to_owner and time (a seq scan of the whole timeline without it).
- activity_assigned_lead: "was this lead assigned to the person who first contacted it?"
  (saved leads), one probe per lead.
- activity_loggable_actor: activities by kind per rep and period, index-only (no heap visits for
  the hundreds of thousands of entries a department logs in a quarter).
- lead_first_contact_by: saved leads per rep and period.
- follow_up_due: follow-ups due in a period for a team.
"""

from django.db import migrations

INDEXES = {
    "activity_initial_assign_owner": (
        "CREATE INDEX IF NOT EXISTS activity_initial_assign_owner ON leads_activity "
        "(((data ->> 'to_owner')::integer), occurred_at) WHERE kind = 'assigned'"
    ),
    "activity_assigned_lead": (
        "CREATE INDEX IF NOT EXISTS activity_assigned_lead ON leads_activity "
        "(lead_id, ((data ->> 'to_owner')::integer)) WHERE kind = 'assigned'"
    ),
    "activity_loggable_actor": (
        "CREATE INDEX IF NOT EXISTS activity_loggable_actor ON leads_activity (actor_id, occurred_at, kind) "
        "WHERE corrects_id IS NULL AND kind IN ('call', 'email', 'meeting', 'sms', 'note')"
    ),
    "lead_first_contact_by": (
        "CREATE INDEX IF NOT EXISTS lead_first_contact_by ON leads_lead (first_contacted_by_id, first_contacted_at)"
    ),
    "follow_up_due": "CREATE INDEX IF NOT EXISTS follow_up_due ON leads_followup (due_at)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
