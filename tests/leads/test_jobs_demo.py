"""The demo's finished import: maria sees it on the import page, with its result; seeding twice adds nothing."""

import pytest

from accountability.demo import seed_org
from leads import demo as leads_demo
from leads.jobs import demo
from leads.jobs.models import ImportJob, ImportJobRow

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_finished_import_for_maria(client):
    ctx = seed_org()
    leads_demo.seed(ctx)
    demo.seed(ctx)
    job = ImportJob.objects.get()
    assert (job.state, job.imported, job.duplicates, job.rejected) == ("done", 4, 4, 2)
    assert job.created_by == ctx.users["maria"] and job.team == ctx.teams["Inbound East"]
    demo.seed(seed_org())
    assert ImportJob.objects.count() == 1 and ImportJobRow.objects.count() == 10

    client.force_login(ctx.users["maria"])
    assert demo.FILENAME in client.get("/leads/import/").content.decode()
    body = client.get(f"/leads/import/jobs/{job.pk}/").content.decode()
    assert "4 leads created in Inbound East" in body and "2 rows rejected" in body
