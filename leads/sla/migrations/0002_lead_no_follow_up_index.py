"""An index on the leads table for the sweep's "contacted, open, no follow-up date" query.

It belongs to the SLA sweep (the only reader), so it lives in this app's migrations. The
expression matches `Coalesce("last_activity_at", "first_contacted_at")` in
leads.sla.services._discover; the condition keeps only the leads that can be due, so a sweep
over a million open leads with follow-up dates reads an empty index range. Plain SQL that
PostgreSQL and SQLite both accept.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS sla_lead_no_follow_up
ON leads_lead ((COALESCE(last_activity_at, first_contacted_at)))
WHERE next_follow_up_at IS NULL AND first_contacted_at IS NOT NULL
  AND stage IN ('new', 'contacted', 'qualified', 'proposal')
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("leads", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql="DROP INDEX IF EXISTS sla_lead_no_follow_up"),
    ]
