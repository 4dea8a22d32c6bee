"""Demo: Maria's import of a trade-show list two days ago, finished, with its result page.

Log in as maria, open Leads → Import CSV: "Your recent imports" lists trade-show-leads.csv; its
page shows what became of the 10 rows (4 new leads, 4 repeat inquiries joined to open leads, 2
rows rejected, with the report to download) and links to those leads in the lead list. The rows
are written by the same service a worker runs. The leads arrived two days ago, so the SLA sweep
records them without reminders (SLA_BACKFILL_HOURS) and the rollup of those days is rebuilt.
"""

import csv
import io
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from leads.jobs import services
from leads.jobs.models import ImportJob, JobState
from leads.models import Lead
from leads.rollup import rollup_build

FILENAME = "trade-show-leads.csv"


def seed(ctx) -> None:
    maria, team = ctx.users["maria"], ctx.teams["Inbound East"]
    if ImportJob.objects.filter(created_by=maria, filename=FILENAME).exists():
        return
    arrived = timezone.localtime(ctx.now - timedelta(days=2), timezone.get_current_timezone())
    arrived = arrived.replace(hour=16, minute=30, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")
    open_leads = list(
        Lead.objects.filter(team=team, stage__in=Lead.OPEN_STAGES).exclude(email="").order_by("pk")[:4]
    )  # the same visitors met again at the stand: repeat inquiries on their open leads
    rows = [
        ["Noor Haddad", "Brightline Foods", "noor.haddad@trade-show.example", "", "4800", "Wants a demo", "alice"],
        ["Tomás Silva", "Porto Logistics", "", "+351 21 123 4567", "12000", "Asked for pricing", "bob"],
        ["Keiko Sato", "Sato Design", "keiko@trade-show.example", "", "2500", "", "carlos"],
        ["Liam O'Connor", "Harbour Tech", "liam@trade-show.example", "", "7500", "Call after the 10th", "dana"],
        *([lead.name, lead.company, lead.email, "", "0", "Stopped by at the trade show", ""] for lead in open_leads),
        ["Pat Unknown", "", "pat-at-trade-show", "", "0", "Badge scan unreadable", ""],
        ["Robin Vale", "Vale & Co", "robin@trade-show.example", "", "3000", "", "rachel"],  # no such rep
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "company", "email", "phone", "value", "notes", "owner", "arrived_at"])
    writer.writerows([*row, arrived] for row in rows)
    data = out.getvalue().encode()
    job = services.import_job_upload(actor=maria, team=team, filename=FILENAME, data=data)
    # Confirmed as the preview's "Import the good rows" does, and run here instead of on a worker.
    ImportJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED, queued_at=ctx.now, heartbeat_at=ctx.now)
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    ctx.created.append(
        f"Import {FILENAME} by maria: {job.imported} imported, {job.duplicates} joined, {job.rejected} rejected"
    )
    if connection.vendor == "postgresql":  # the days the leads arrived on, as the nightly rollup would
        today = ctx.now.date()
        rollup_build(start=today - timedelta(days=3), end=today, now=ctx.now)
