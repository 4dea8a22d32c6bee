"""A file exported from the lead list imports back: into another team unchanged, and into its own."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.importing import EXPORT_ONLY_COLUMNS, csv_safe, csv_unescape
from leads.jobs.models import ImportJob
from leads.jobs.services import import_job_run
from leads.models import Lead
from tests.factories import IntakeSourceFactory, LeadFactory

pytestmark = pytest.mark.django_db

ARRIVED = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
COPIED = ["name", "company", "email", "phone", "value", "arrived_at"]


def _north_leads(org):
    north = org["north"]
    ads = IntakeSourceFactory(team=north, name="West Coast Ads", slug="west-coast")
    LeadFactory(
        owner=org["alice"], team=north, name="=Ann", company="-Acme", email="ann@example.com",
        phone="+14155552671", value=Decimal("1234.50"), source=ads, arrived_at=ARRIVED,
    )  # fmt: skip
    LeadFactory(
        owner=org["bob"], team=north, name="Ben", company="", email="ben@example.com", phone="",
        value=10, stage="won", closed_at=ARRIVED, arrived_at=ARRIVED,
    )  # fmt: skip
    LeadFactory(owner=None, team=north, name="Queued", email="", phone="+442079460958", value=0, arrived_at=ARRIVED)
    return ads


def _export(client, team) -> bytes:
    response = client.get("/leads/export.csv", {"team": team.pk})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _import(client, data: bytes, team):
    upload = SimpleUploadedFile("leads-export.csv", data, "text/csv")
    response = client.post("/leads/import/", {"team": team.pk, "file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response.url)


def _confirm_all(client, preview) -> ImportJob:
    """Import all from the preview, and run the job in place as the worker would."""
    job = preview.context["job"]
    client.post(f"/leads/import/{job.pk}/confirm/", {"choice": "all"})
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_lead_list_export_imports_into_another_team_unchanged(org, login):
    _north_leads(org)
    client = login(org["admin"])
    data = _export(client, org["north"])
    header = next(csv.reader(io.StringIO(data.decode())))
    assert {"id", "stage", "team"} <= set(header)  # the export's own columns, which used to be refused

    preview = _import(client, data, org["south"])
    body = preview.content.decode()
    assert "3</strong> ready" in body and "0</strong> with errors" in body
    assert preview.context["ignored_columns"] == [c for c in header if c in EXPORT_ONLY_COLUMNS]
    assert "Ignored columns" in body and "id, stage, lost_reason, team, channel" in body
    # Owners and sources of North mean nothing in South: said in the preview, not refused.
    assert "owner “alice” is in North: South&#x27;s rule assigns the lead" in body
    assert "source “West Coast Ads” belongs to North: imported without a source" in body
    assert Lead.objects.filter(team=org["south"]).count() == 0  # nothing written by the preview

    job = _confirm_all(client, preview)
    assert (job.state, job.imported, job.rejected) == ("done", 3, 0)
    originals = {lead.email or lead.phone: lead for lead in Lead.objects.filter(team=org["north"])}
    imported = Lead.objects.filter(team=org["south"])
    assert len(imported) == 3
    for lead in imported:
        original = originals[lead.email or lead.phone]
        assert [getattr(lead, f) for f in COPIED] == [getattr(original, f) for f in COPIED]
        assert (lead.channel, lead.stage, lead.source_id, lead.closed_at) == ("csv", "new", None, None)
        assert lead.owner_id in (None, org["charlie"].pk)  # South's rule, never North's reps
    assert Lead.objects.get(team=org["south"], email="ann@example.com").name == "=Ann"  # the formula guard undone


def test_a_lead_list_export_imports_back_into_its_own_team(org, login):
    """The same file into North: owners and the source (by its name) are used; open leads join."""
    ads = _north_leads(org)
    client = login(org["maria"])
    data = _export(client, org["north"])
    Lead.objects.filter(team=org["north"]).delete()  # as if restoring from the file
    preview = _import(client, data, org["north"])
    assert "3</strong> ready" in preview.content.decode()
    assert 'data-testid="import-warning"' not in preview.content.decode()
    _confirm_all(client, preview)
    ann = Lead.objects.get(email="ann@example.com")
    assert (ann.owner, ann.source, ann.phone, ann.company) == (org["alice"], ads, "+14155552671", "-Acme")
    assert Lead.objects.get(email="ben@example.com").owner == org["bob"]


def test_an_owner_unknown_in_a_hand_made_file_is_still_an_error(org, login):
    """Without the export's team column (or with the same team), an unknown owner is a typo to fix."""
    client = login(org["maria"])
    for data in (
        b"name,email,owner\nAnn,ann@example.com,charlie\n",
        b"name,email,owner,team\nAnn,ann@example.com,charlie,North\n",
    ):
        body = _import(client, data, org["north"]).content.decode()
        assert "no active member of the team" in body and "1</strong> with errors" in body


def test_a_column_that_is_neither_imported_nor_exported_is_still_refused(org, login):
    upload = SimpleUploadedFile("x.csv", b"name,email,emial\nAnn,a@example.com,x\n", "text/csv")
    response = login(org["maria"]).post("/leads/import/", {"team": org["north"].pk, "file": upload})
    assert response.status_code == 400 and "unknown column: emial" in response.content.decode()


@pytest.mark.parametrize("text", ["=1+1", "+14155552671", "-Acme", "@home", "plain", "'quoted", ""])
def test_csv_unescape_undoes_csv_safe(text):
    assert csv_unescape(csv_safe(text)) == text


def test_the_head_of_sales_moves_a_teams_export_into_a_sub_team_they_manage(org, login):
    """Helen manages Sales and, through it, North and South: the upload form offers South, and
    the preview and the import accept it (they used to answer "Upload a file first")."""
    _north_leads(org)
    client = login(org["helen"])
    preview = _import(client, _export(client, org["north"]), org["south"])
    assert preview.status_code == 200 and "3</strong> ready" in preview.content.decode()
    assert _confirm_all(client, preview).imported == 3
    assert Lead.objects.filter(team=org["south"]).count() == 3
