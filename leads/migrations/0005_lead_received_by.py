"""Lead.received_by: the rep the lead was first assigned to, backfilled from the timeline.

The backfill takes, for each lead, the first `assigned` entry that gave it to a rep
(data["to_owner"]; a queue entry has none), or the lead's owner when the timeline has no such
entry (leads made before assignments were recorded). It walks the leads by primary key in
batches with plain ORM queries, so it runs the same on SQLite and PostgreSQL and never holds a
whole table in memory.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BATCH = 2000


def backfill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    Activity = apps.get_model("leads", "Activity")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    db = schema_editor.connection.alias
    user_ids = set(User.objects.using(db).values_list("pk", flat=True))
    last_pk = 0
    while True:
        leads = list(
            Lead.objects.using(db)
            .filter(pk__gt=last_pk, received_by__isnull=True)
            .order_by("pk")
            .only("pk", "owner_id")[:BATCH]
        )
        if not leads:
            break
        last_pk = leads[-1].pk
        first: dict[int, int] = {}
        entries = (
            Activity.objects.using(db)
            .filter(lead_id__in=[lead.pk for lead in leads], kind="assigned")
            .order_by("occurred_at", "pk")
            .values_list("lead_id", "data")
        )
        for lead_id, data in entries:
            to_owner = (data or {}).get("to_owner") if isinstance(data, dict) else None
            if lead_id not in first and to_owner is not None and int(to_owner) in user_ids:
                first[lead_id] = int(to_owner)
        changed = []
        for lead in leads:
            lead.received_by_id = first.get(lead.pk, lead.owner_id)
            if lead.received_by_id is not None:
                changed.append(lead)
        Lead.objects.using(db).bulk_update(changed, ["received_by"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0001_initial"),
        ("leads", "0004_metrics_initial_assignment_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="received_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["received_by", "arrived_at"], include=["first_contacted_at"], name="lead_received_arrived"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
