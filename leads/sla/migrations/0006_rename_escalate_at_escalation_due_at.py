"""`escalate_at` (planned) read like `escalated_at` (done): the planned times are now
`escalation_due_at` and `escalation2_due_at`. A rename only: no data changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_clock_state_reassigned")]

    operations = [
        migrations.RenameField(model_name="slaclock", old_name="escalate_at", new_name="escalation_due_at"),
        migrations.RenameField(model_name="slaclock", old_name="escalate2_at", new_name="escalation2_due_at"),
    ]
