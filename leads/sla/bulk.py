"""Fast inserts for the sweep on PostgreSQL: COPY instead of a parametrised INSERT.

Recording 10,000 due leads means 10,000 clocks and 20,000 notices; Django's bulk_create spends
most of its time preparing parameters in Python. COPY streams rows through psycopg's C
adapters. Clocks go through a temporary table so the insert can still say ON CONFLICT DO
NOTHING (the unique constraint is what makes two sweeps at once record each due event once).
Other databases use bulk_create.
"""

import json

from django.db import connection
from django.db.models import Model

from leads.sla.models import SlaClock


def _values(obj: Model, fields: list[str]) -> tuple:
    row = []
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, dict | list):
            value = json.dumps(value)
        row.append(value)
    return tuple(row)


def copy_insert(model: type[Model], objs: list[Model], fields: list[str], *, ignore_conflicts: bool = False) -> None:
    """Insert `objs` (columns `fields`, attnames). With ignore_conflicts, rows that hit a unique
    constraint are skipped. Primary keys are not set on `objs`."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts, batch_size=1000)
        return
    table = model._meta.db_table
    columns = ", ".join(f'"{model._meta.get_field(name).column}"' for name in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        target = table
        if ignore_conflicts:
            target = f"_load_{table}"
            raw.execute(f'DROP TABLE IF EXISTS "{target}"')
            # Same column types, no constraints: rows are checked when they reach the real table.
            raw.execute(f'CREATE TEMP TABLE "{target}" AS SELECT {columns} FROM "{table}" WITH NO DATA')  # noqa: S608
        with raw.copy(f'COPY "{target}" ({columns}) FROM STDIN') as copy:
            for obj in objs:
                copy.write_row(_values(obj, fields))
        if ignore_conflicts:
            raw.execute(
                f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{target}" ON CONFLICT DO NOTHING'  # noqa: S608
            )
            raw.execute(f'DROP TABLE "{target}"')


CLOCK_INSERT_FIELDS = [
    "lead_id",
    "kind",
    "key",
    "follow_up_id",
    "anchor_at",
    "due_at",
    "remind_at",
    "overdue_at",
    "escalation_due_at",
    "escalation2_due_at",
    "next_step",
    "next_at",
    "state",
    "handled_at",
    "policy_id",
    "policy_version",
    "policy_values",
    "explanation",
    "claimable",
    "created_at",
]
NOTICE_INSERT_FIELDS = [
    "clock_id",
    "lead_id",
    "step",
    "recipient_id",
    "scheduled_at",
    "state",
    "reason",
    "created_at",
    "enqueued_at",
    "finished_at",
]

__all__ = ["CLOCK_INSERT_FIELDS", "NOTICE_INSERT_FIELDS", "SlaClock", "copy_insert"]
