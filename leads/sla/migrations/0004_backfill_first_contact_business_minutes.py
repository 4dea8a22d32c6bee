"""Speed to lead in business time for the leads contacted before the column existed.

Batched by id (BATCH leads per UPDATE), so a large table is never locked or read at once.
Clocks made before this release did not store their version's business hours, so each lead
is counted with its team's policy as it is now (inherited from a parent team, else the
organisation default, else Monday to Friday 09:00-17:00 like the sweep), in the team's zone,
without the holidays of another team. New first contacts use the exact version of their clock.
"""

from django.db import migrations

from leads.sla.business_time import Calendar, business_minutes_between

BATCH = 2000
FALLBACK_HOURS = [(day, 9 * 60, 17 * 60) for day in range(5)]


def backfill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    Team = apps.get_model("accountability", "Team")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    BusinessHours = apps.get_model("sla", "BusinessHours")
    Holiday = apps.get_model("sla", "Holiday")

    teams = {t["id"]: t for t in Team.objects.values("id", "parent_id", "time_zone")}
    policies = dict(SlaPolicy.objects.values_list("team_id", "id"))
    hours: dict[int, list] = {}
    for policy_id, weekday, opens, closes in BusinessHours.objects.values_list(
        "policy_id", "weekday", "opens", "closes"
    ):
        hours.setdefault(policy_id, []).append((weekday, opens, closes))
    holidays: dict = {}
    for team_id, day in Holiday.objects.values_list("team_id", "date"):
        holidays.setdefault(team_id, set()).add(day)
    calendars: dict = {}

    def calendar_for(team_id):
        if team_id not in calendars:
            current, seen, policy_id = team_id, set(), None
            while current is not None and current not in seen:
                seen.add(current)
                if current in policies:
                    policy_id = policies[current]
                    break
                current = teams.get(current, {}).get("parent_id")
            if policy_id is None:
                policy_id = policies.get(None)
            windows = hours.get(policy_id, []) if policy_id is not None else FALLBACK_HOURS
            calendars[team_id] = Calendar.build(
                time_zone=teams.get(team_id, {}).get("time_zone") or "UTC",
                windows=windows,
                holidays=holidays.get(None, set()) | holidays.get(team_id, set()),
            )
        return calendars[team_id]

    todo = Lead.objects.filter(first_contacted_at__isnull=False, first_contact_business_minutes__isnull=True)
    last_id = 0
    while True:
        rows = list(
            todo.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "team_id", "arrived_at", "first_contacted_at")[:BATCH]
        )
        if not rows:
            return
        batch = [
            Lead(
                id=pk,
                first_contact_business_minutes=round(
                    business_minutes_between(arrived, first, calendar_for(team_id)), 3
                ),
            )
            for pk, team_id, arrived, first in rows
        ]
        Lead.objects.bulk_update(batch, ["first_contact_business_minutes"], batch_size=500)
        last_id = rows[-1][0]


class Migration(migrations.Migration):
    # Each batch commits on its own (a short transaction, not one over the whole table); the
    # backfill only fills nulls, so running it again after a failure part-way is safe.
    atomic = False

    dependencies = [
        ("sla", "0003_clock_state_expired"),
        ("leads", "0007_lead_first_contact_business_minutes"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
