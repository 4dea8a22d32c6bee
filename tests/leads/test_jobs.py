"""CSV imports and large exports in the background (leads.jobs): chunks, re-runs, the sweep, the pages."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leads.jobs import services
from leads.jobs.models import ExportChunk, ExportJob, ImportJob, ImportJobRow
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HEADER = "name,company,email,phone,value,owner"


def _csv(n: int, *, bad_every: int = 0, owner: str = "") -> bytes:
    lines = [HEADER]
    for i in range(n):
        email = "not-an-email" if bad_every and i % bad_every == bad_every - 1 else f"person{i}@example.com"
        lines.append(f"Person {i},Co {i},{email},,{i},{owner}")
    return ("\n".join(lines) + "\n").encode()


def _upload(client, data: bytes, team, name="leads.csv"):
    return client.post("/leads/import/", {"team": team.pk, "file": SimpleUploadedFile(name, data, "text/csv")})


@pytest.fixture
def sent(monkeypatch):
    """Tasks the services enqueue on commit, recorded instead of sent (the test runs them)."""
    calls = []
    monkeypatch.setattr(services, "task_send_on_commit", lambda name, *args: calls.append((name, *args)))
    return calls


def _queued_import(client, data: bytes, team, choice="good_rows") -> ImportJob:
    response = _upload(client, data, team)
    assert response.status_code == 302, response.content.decode()[:500]
    job = ImportJob.objects.get(state="uploaded")
    assert client.post(f"/leads/import/{job.pk}/confirm/", {"choice": choice}).url == f"/leads/import/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.state == "queued"
    return job


def _age(job, seconds=600):
    """As if the worker running it had stopped `seconds` ago (a crash)."""
    type(job).objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=seconds))


# --- the import job ------------------------------------------------------------------------------


def test_an_import_runs_in_chunks_and_its_progress_shows_between_them(org, login, sent):
    client = login(org["maria"])
    job = _queued_import(client, _csv(250, bad_every=50), org["north"])
    assert sent == [(services.IMPORT_TASK, job.pk)]
    assert Lead.objects.count() == 0  # confirming only queues: the browser does not wait for the rows

    assert services.import_job_run(job_id=job.pk, chunk_rows=100, max_chunks=1)
    job.refresh_from_db()
    assert (job.state, job.processed_rows, job.imported, job.rejected) == ("running", 100, 98, 2)
    progress = client.get(f"/leads/import/jobs/{job.pk}/progress/").content.decode()
    assert "100 of 250 rows: 98 imported, 0 joined as duplicates, 2 rejected" in progress
    assert 'aria-valuenow="40"' in progress and "hx-trigger" in progress  # polls on

    _age(job)  # the first run "stopped": the next one resumes at row 100
    assert services.import_job_run(job_id=job.pk, chunk_rows=100)
    job.refresh_from_db()
    assert (job.state, job.processed_rows, job.imported, job.rejected) == ("done", 250, 245, 5)
    assert job.content == ""  # the file is dropped once imported
    assert Lead.objects.count() == 245
    assert ImportJobRow.objects.filter(job=job).count() == 250
    done = client.get(f"/leads/import/jobs/{job.pk}/progress/").content.decode()
    assert "Import of leads.csv done" in done and "hx-trigger" not in done  # the result stops the polling
    assert "245 leads created in North" in done and "5 rows rejected" in done


def test_a_long_import_gives_its_worker_slot_back_between_slices(org, login, sent, settings):
    settings.LEADS_JOB_SLICE_SECONDS = 0  # every chunk is a slice
    job = _queued_import(login(org["maria"]), _csv(250), org["north"])
    sent.clear()
    assert services.import_job_run(job_id=job.pk, chunk_rows=100)
    job.refresh_from_db()
    # One chunk, then the rest queued as a new message: the SLA sweep can run in between.
    assert (job.state, job.processed_rows) == ("queued", 100) and sent == [(services.IMPORT_TASK, job.pk)]
    while ImportJob.objects.get(pk=job.pk).state == "queued":
        services.import_job_run(job_id=job.pk, chunk_rows=100)
    job.refresh_from_db()
    assert (job.state, job.imported, job.attempts, len(sent)) == ("done", 250, 0, 2)
    assert Lead.objects.count() == 250


def test_a_second_run_or_a_duplicate_message_imports_nothing_twice(org, login, sent):
    job = _queued_import(login(org["maria"]), _csv(30), org["north"])
    assert services.import_job_run(job_id=job.pk)
    assert not services.import_job_run(job_id=job.pk)  # done: not claimed
    _age(job)
    assert not services.import_job_run(job_id=job.pk)  # a stale *done* job is not running either
    assert Lead.objects.count() == 30 and ImportJob.objects.get().imported == 30


def test_a_run_while_another_is_alive_does_nothing(org, login, sent):
    job = _queued_import(login(org["maria"]), _csv(30), org["north"])
    assert services.import_job_run(job_id=job.pk, chunk_rows=10, max_chunks=1)
    assert not services.import_job_run(job_id=job.pk)  # heartbeat fresh: the first run owns it
    assert Lead.objects.count() == 10


def test_a_crash_mid_import_is_resumed_by_the_sweep_and_every_row_lands_once(org, login, sent, monkeypatch):
    job = _queued_import(login(org["maria"]), _csv(250), org["north"])
    real_write = services.write_row
    calls = {"n": 0}

    def crash_at_row_150(row, **kwargs):
        calls["n"] += 1
        if calls["n"] == 150:
            raise RuntimeError("worker killed")
        return real_write(row, **kwargs)

    monkeypatch.setattr(services, "write_row", crash_at_row_150)
    with pytest.raises(RuntimeError):
        services.import_job_run(job_id=job.pk, chunk_rows=100)
    monkeypatch.setattr(services, "write_row", real_write)
    job.refresh_from_db()
    # The chunk in flight rolled back whole: 100 rows committed, the job still "running".
    assert (job.state, job.processed_rows, Lead.objects.count()) == ("running", 100, 100)

    sent.clear()
    assert services.jobs_sweep().resent == []  # not stale yet: the worker may be slow, not dead
    _age(job)  # minutes later
    result = services.jobs_sweep()
    assert result.resent == [f"import {job.pk}"] and sent == [(services.IMPORT_TASK, job.pk)]
    assert services.import_job_run(job_id=job.pk, chunk_rows=100)  # what the resent task runs
    job.refresh_from_db()
    assert (job.state, job.imported, job.attempts) == ("done", 250, 1)  # one run took over from a crashed one
    assert Lead.objects.count() == 250
    assert sorted(ImportJobRow.objects.values_list("line", flat=True)) == list(range(2, 252))


def test_a_job_that_keeps_crashing_fails_with_a_message_after_its_attempts(org, login, sent, settings):
    client = login(org["maria"])
    job = _queued_import(client, _csv(5), org["north"])
    # It crashed, was taken over and crashed again, twice: the third takeover gives up.
    ImportJob.objects.filter(pk=job.pk).update(state="running", attempts=settings.LEADS_JOB_MAX_ATTEMPTS - 1)
    _age(job)
    assert services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "Stopped after 3 attempts" in job.error
    assert Lead.objects.count() == 0
    body = client.get(f"/leads/import/jobs/{job.pk}/").content.decode()
    assert "stopped" in body and "Stopped after 3 attempts" in body and "hx-trigger" not in body


def test_a_row_refused_at_write_time_is_rejected_and_in_the_report(org, login, sent):
    client = login(org["maria"])
    data = (HEADER + "\nAnn,,ann@example.com,,1,bob\nBen,,ben@example.com,,2,\n").encode()
    job = _queued_import(client, data, org["north"], choice="all")
    org["bob"].is_active = False  # bob leaves between the preview and the worker
    org["bob"].save()
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.imported, job.rejected) == (1, 1)
    report = client.get(f"/leads/import/jobs/{job.pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0] == ["line", "name", "company", "email", "phone", "value", "notes", "owner", "source",
                       "arrived_at", "errors"]  # fmt: skip
    assert rows[1][:2] == ["2", "Ann"] and "no active member of the team is called “bob”" in rows[1][-1]
    assert len(rows) == 2


def test_duplicates_in_the_file_and_in_the_team_join_open_leads(org, login, sent):
    LeadFactory(owner=org["alice"], team=org["north"], email="person0@example.com")
    data = _csv(3) + b"Person 1 again,,PERSON1@example.com,,1,\n"
    job = _queued_import(login(org["maria"]), data, org["north"])
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.imported, job.duplicates, job.rejected) == (2, 2, 0)
    assert Lead.objects.count() == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        ("name,email\nJosé,jose@example.com\n".encode("cp1252"), "not UTF-8"),
        (b"Ann,ann@example.com\nBen,ben@example.com\n", "unknown columns: ann, ann@example.com"),  # no header row
        (b"name,email\n", "no rows"),
        (b"name,email\nA\x00,a@example.com\n", "binary data"),
        (_csv(6), "more than 5 rows"),
        (_csv(200), "too large"),
    ],
)
def test_a_bad_file_is_refused_at_upload_with_a_clear_message_and_nothing_saved(org, login, settings, data, message):
    settings.LEADS_IMPORT_MAX_ROWS = 5
    settings.LEADS_IMPORT_MAX_BYTES = 4000
    response = _upload(login(org["maria"]), data, org["north"])
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'name="team"' in response.content.decode()  # the form is back, to pick another file
    assert not ImportJob.objects.exists() and not Lead.objects.exists()


def test_a_double_confirmation_queues_one_import(org, login, sent):
    client = login(org["maria"])
    job = _queued_import(client, _csv(3), org["north"])
    again = client.post(f"/leads/import/{job.pk}/confirm/", {"choice": "good_rows"})
    assert again.url == f"/leads/import/jobs/{job.pk}/"
    assert sent == [(services.IMPORT_TASK, job.pk)]


def test_a_new_upload_replaces_the_unconfirmed_one_and_the_sweep_drops_old_ones(org, login, sent):
    client = login(org["maria"])
    _upload(client, _csv(2), org["north"])
    _upload(client, _csv(3), org["north"])
    job = ImportJob.objects.get()
    assert job.total_rows == 3
    assert f"/leads/import/{job.pk}/preview/" in client.get("/leads/import/").content.decode()  # waiting upload
    assert services.jobs_sweep(now=timezone.now() + timedelta(hours=25)).uploads_dropped == 1
    assert not ImportJob.objects.exists()


def test_the_sweep_resends_a_queued_job_whose_message_was_lost_once(org, login, sent):
    job = _queued_import(login(org["maria"]), _csv(3), org["north"])
    sent.clear()
    later = timezone.now() + timedelta(minutes=3)
    assert services.jobs_sweep(now=later).resent == [f"import {job.pk}"]
    assert services.jobs_sweep(now=later).resent == []  # the first moved its heartbeat: sent once
    assert sent == [(services.IMPORT_TASK, job.pk)]


# --- scoping and methods -------------------------------------------------------------------------


def _job_urls(job):
    return [
        f"/leads/import/{job.pk}/preview/",
        f"/leads/import/jobs/{job.pk}/",
        f"/leads/import/jobs/{job.pk}/progress/",
        f"/leads/import/jobs/{job.pk}/rejected.csv",
    ]


def test_only_the_importer_sees_their_import(org, login, sent):
    job = _queued_import(login(org["maria"]), _csv(4, bad_every=2), org["north"])
    services.import_job_run(job_id=job.pk)
    maria = login(org["maria"])
    assert [maria.get(u).status_code for u in _job_urls(job)] == [302, 200, 200, 200]
    for other in ("sam", "helen", "admin"):  # another manager, maria's own manager, an admin: not theirs
        client = login(org[other])
        assert [client.get(u).status_code for u in _job_urls(job)] == [404, 404, 404, 404], other
        assert client.post(f"/leads/import/{job.pk}/confirm/", {"choice": "all"}).status_code == 404
    rep = login(org["alice"])  # reps do not import (the role rule of the upload page)
    assert {rep.get(u).status_code for u in _job_urls(job)} == {403}


def test_the_htmx_progress_answers_404_to_another_user(org, login, sent):
    job = _queued_import(login(org["maria"]), _csv(4), org["north"])
    response = login(org["sam"]).get(f"/leads/import/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response.status_code == 404


def test_post_only_job_views_refuse_get(org, login):
    client = login(org["maria"])
    assert client.get("/leads/import/1/confirm/").status_code == 405
    assert client.get("/leads/export/jobs/").status_code == 405
    assert client.post("/leads/import/jobs/1/progress/").status_code == 405


def test_the_report_of_an_import_without_rejected_rows_is_404(org, login, sent):
    client = login(org["maria"])
    job = _queued_import(client, _csv(2), org["north"])
    services.import_job_run(job_id=job.pk)
    assert client.get(f"/leads/import/jobs/{job.pk}/rejected.csv").status_code == 404


@pytest.mark.parametrize("rows", [10, 300])
def test_the_progress_endpoint_runs_a_constant_number_of_queries(org, login, sent, django_assert_num_queries, rows):
    client = login(org["maria"])
    job = _queued_import(client, _csv(rows, bad_every=5), org["north"])
    services.import_job_run(job_id=job.pk, chunk_rows=rows // 2, max_chunks=1)
    # session, user, their time zone (middleware), the job with its team (never its file), whatever
    # the file's size, running or done
    with django_assert_num_queries(4):
        assert client.get(f"/leads/import/jobs/{job.pk}/progress/").status_code == 200
    _age(job)
    services.import_job_run(job_id=job.pk)
    with django_assert_num_queries(4):
        assert "done" in client.get(f"/leads/import/jobs/{job.pk}/progress/").content.decode()


def test_the_result_links_to_the_imported_leads_in_the_lead_list(org, login, sent):
    LeadFactory(owner=org["alice"], team=org["north"], name="Older lead", email="older@example.com")
    LeadFactory(owner=org["alice"], team=org["north"], name="Joined", email="person0@example.com")
    client = login(org["maria"])
    job = _queued_import(client, _csv(3), org["north"])
    services.import_job_run(job_id=job.pk)
    body = client.get(f"/leads/import/jobs/{job.pk}/").content.decode()
    assert f"/leads/?import_job={job.pk}&amp;import_outcome=imported" in body
    listed = client.get("/leads/", {"import_job": job.pk, "import_outcome": "imported"})
    assert {lead.name for lead in listed.context["page"]} == {"Person 1", "Person 2"}
    assert "Only the leads of your import" in listed.content.decode()
    joined = client.get("/leads/", {"import_job": job.pk, "import_outcome": "duplicate"})
    assert [lead.name for lead in joined.context["page"]] == ["Joined"]
    # Someone else's import id filters to nothing (they see no one's imports but their own).
    assert not list(login(org["helen"]).get("/leads/", {"import_job": job.pk}).context["page"])


# --- large exports ---------------------------------------------------------------------------------


def _export_lines(response) -> list[str]:
    content = b"".join(response.streaming_content).decode()
    return content.splitlines()


def test_a_small_export_stays_immediate_and_a_large_one_becomes_a_job(org, login, sent, settings):
    for i in range(7):
        LeadFactory(owner=org["alice"] if i % 2 else org["bob"], team=org["north"], name=f"Lead {i}")
    LeadFactory(owner=org["charlie"], team=org["south"], name="Southern")
    client = login(org["maria"])
    immediate = _export_lines(client.get("/leads/export.csv"))
    assert len(immediate) == 8  # header and North's 7

    settings.LEADS_EXPORT_SYNC_MAX_ROWS = 5
    page = client.get("/leads/export.csv")
    assert page.status_code == 200 and "Export 7 leads" in page.content.decode()
    assert not ExportJob.objects.exists()  # a GET changes nothing: the page asks for a POST
    created = client.post("/leads/export/jobs/", {"query": page.context["query"]})
    job = ExportJob.objects.get()
    assert created.url == f"/leads/export/jobs/{job.pk}/" and sent == [(services.EXPORT_TASK, job.pk)]
    assert "0 of about 7 leads written" in client.get(created.url).content.decode()

    assert services.export_job_run(job_id=job.pk, chunk_rows=3, max_chunks=1)
    job.refresh_from_db()
    assert (job.state, job.processed_rows) == ("running", 3)
    assert "3 of about 7 leads written" in client.get(f"/leads/export/jobs/{job.pk}/progress/").content.decode()
    _age(job)
    services.export_job_run(job_id=job.pk, chunk_rows=3)
    job.refresh_from_db()
    assert (job.state, job.processed_rows, ExportChunk.objects.filter(job=job).count()) == ("done", 7, 3)
    assert "Download the CSV" in client.get(f"/leads/export/jobs/{job.pk}/progress/").content.decode()
    download = _export_lines(client.get(f"/leads/export/jobs/{job.pk}/download.csv"))
    assert download[0] == immediate[0]
    assert sorted(download[1:]) == sorted(immediate[1:])  # the same leads and cells, in id order


def test_a_large_export_keeps_the_filters_and_the_scope(org, login, sent, settings):
    settings.LEADS_EXPORT_SYNC_MAX_ROWS = 1
    for i in range(3):
        won = {"stage": "won", "closed_at": timezone.now()} if i else {}
        LeadFactory(owner=org["alice"], team=org["north"], name=f"Alice {i}", **won)
    LeadFactory(owner=org["bob"], team=org["north"], name="Bob's", stage="won", closed_at=timezone.now())
    client = login(org["alice"])  # a rep: her own leads only
    client.post("/leads/export/jobs/", {"query": "stage=won"})
    job = ExportJob.objects.get()
    services.export_job_run(job_id=job.pk)
    names = [row[1] for row in csv.reader(_export_lines(client.get(f"/leads/export/jobs/{job.pk}/download.csv")))]
    assert names == ["name", "Alice 1", "Alice 2"]


def test_an_export_with_bad_filters_is_refused_and_nothing_is_queued(org, login, sent):
    response = login(org["maria"]).post("/leads/export/jobs/", {"query": f"team={org['south'].pk}"})
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert not ExportJob.objects.exists() and sent == []


def test_only_the_exporter_sees_their_export_and_old_files_expire(org, login, sent, settings):
    settings.LEADS_EXPORT_SYNC_MAX_ROWS = 0
    LeadFactory(owner=org["alice"], team=org["north"])
    maria = login(org["maria"])
    maria.post("/leads/export/jobs/", {"query": ""})
    job = ExportJob.objects.get()
    services.export_job_run(job_id=job.pk)
    urls = [f"/leads/export/jobs/{job.pk}/", f"/leads/export/jobs/{job.pk}/progress/",
            f"/leads/export/jobs/{job.pk}/download.csv"]  # fmt: skip
    assert [maria.get(u).status_code for u in urls] == [200, 200, 200]
    for other in ("alice", "sam", "admin"):
        client = login(org[other])
        assert [client.get(u).status_code for u in urls] == [404, 404, 404], other

    result = services.jobs_sweep(now=timezone.now() + timedelta(hours=settings.LEADS_EXPORT_KEEP_HOURS + 1))
    assert result.exports_expired == 1 and not ExportChunk.objects.exists()
    maria = login(org["maria"])
    assert maria.get(urls[2]).status_code == 404
    assert "This export has expired" in maria.get(urls[0]).content.decode()


@pytest.mark.parametrize("leads", [3, 30])
def test_the_export_progress_endpoint_runs_a_constant_number_of_queries(
    org, login, sent, settings, django_assert_num_queries, leads
):
    settings.LEADS_EXPORT_SYNC_MAX_ROWS = 0
    for _ in range(leads):
        LeadFactory(owner=org["alice"], team=org["north"])
    client = login(org["maria"])
    client.post("/leads/export/jobs/", {"query": ""})
    job = ExportJob.objects.get()
    services.export_job_run(job_id=job.pk, chunk_rows=leads // 3 + 1)
    with django_assert_num_queries(4):  # session, user, their time zone, the job
        assert client.get(f"/leads/export/jobs/{job.pk}/progress/").status_code == 200
