"""One row per automatic-recognition rule, so admins see and switch every rule before it first fires."""

from django.db import migrations

RULES = {
    "goal_met": {},
    "lead_saved": {"untouched_hours": 24},
    "sla_streak": {"business_days": 20, "first_contact_hours": 24},
    "commitments_kept": {"weeks": 4},
}


def create_rules(apps, schema_editor):
    AutoRule = apps.get_model("recognition", "AutoRule")
    for code, params in RULES.items():
        AutoRule.objects.get_or_create(code=code, defaults={"params": params})


class Migration(migrations.Migration):
    dependencies = [("recognition", "0001_kudos_values_awards")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
