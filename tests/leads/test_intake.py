"""The public web form, intake-source administration, and CSV import (browser and command)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from leads.jobs.models import ImportJob
from leads.jobs.services import import_job_run
from leads.models import IntakeSource, Lead
from leads.services import hash_token, intake_source_create
from tests.factories import IntakeSourceFactory, LeadFactory

pytestmark = pytest.mark.django_db


# --- public web form ---------------------------------------------------------------------------------


@pytest.fixture
def source(org):
    return IntakeSourceFactory(name="Website", slug="website", team=org["north"])


def test_web_form_creates_lead_and_thanks(source, org):
    client = Client(enforce_csrf_checks=True)  # embedded forms post without our CSRF cookie
    page = client.get("/leads/intake/website/")
    assert page.status_code == 200 and "X-Frame-Options" not in page  # embeddable
    response = client.post(
        "/leads/intake/website/", {"name": "Jo", "email": "jo@example.com", "phone": "", "message": "Call me"}
    )
    assert response.status_code == 302 and response.url == "/leads/intake/website/thanks/"
    lead = Lead.objects.get()
    assert (lead.channel, lead.source, lead.owner, lead.notes) == ("web_form", source, org["alice"], "Call me")
    assert "Thank you" in client.get(response.url).content.decode()


def test_other_pages_still_refuse_framing(org, login):
    assert login(org["alice"]).get("/leads/")["X-Frame-Options"] == "DENY"


def test_honeypot_thanks_the_bot_and_keeps_nothing(source):
    response = Client().post(
        "/leads/intake/website/", {"name": "Bot", "email": "bot@example.com", "website": "http://spam"}
    )
    assert response.status_code == 302
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "email": "a@example.com"}, "This field is required."),
        ({"name": "Jo", "email": "nope"}, "Enter a valid email address"),
        ({"name": "Jo", "phone": "12"}, "phone number"),
        ({"name": "Jo"}, "Give an email address or a phone number"),
        ({"name": "x" * 300, "email": "a@example.com"}, "at most 200 characters"),
    ],
)
def test_web_form_field_errors_redisplay_input(source, data, message):
    response = Client().post("/leads/intake/website/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert Lead.objects.count() == 0


def test_web_form_rate_limited_per_ip(source, settings):
    settings.LEADS_WEB_FORM_RATE_PER_MINUTE = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [
        client.post("/leads/intake/website/", {"name": f"L{i}", "email": f"l{i}@example.com"}).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]
    limited = client.post("/leads/intake/website/", {"name": "L9", "email": "l9@example.com"})
    assert limited.status_code == 429 and "Too many submissions" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0
    other = Client(REMOTE_ADDR="203.0.113.10").post("/leads/intake/website/", {"name": "Z", "email": "z@example.com"})
    assert other.status_code == 302
    assert Lead.objects.count() == 3


def test_inactive_or_unknown_source_form_is_404(source):
    IntakeSource.objects.filter(pk=source.pk).update(is_active=False)
    assert Client().get("/leads/intake/website/").status_code == 404
    assert Client().get("/leads/intake/nope/").status_code == 404


# --- intake sources (admin pages) ---------------------------------------------------------------------


def test_admin_creates_source_and_sees_token_once(org, login):
    c = login(org["admin"])
    response = c.post(
        "/leads/intake-sources/new/", {"name": "Partner feed", "slug": "", "team": org["south"].pk,
                                       "rate_limit_per_minute": 0}
    )  # fmt: skip
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = response.context["token"]
    source = IntakeSource.objects.get(name="Partner feed")
    assert source.slug == "partner-feed" and source.token_hash == hash_token(token)
    listing = c.get("/leads/intake-sources/").content.decode()
    assert source.token_prefix in listing and token not in listing


def test_create_source_bad_input(org, login):
    intake_source_create(actor=org["admin"], name="Taken", slug="taken", team=org["north"])
    c = login(org["admin"])
    response = c.post(
        "/leads/intake-sources/new/", {"name": "Taken", "team": org["north"].pk, "rate_limit_per_minute": 0}
    )
    assert response.status_code == 400 and "already exists" in response.content.decode()
    response = c.post(
        "/leads/intake-sources/new/", {"name": "x" * 101, "team": org["north"].pk, "rate_limit_per_minute": -1}
    )
    assert response.status_code == 400
    assert IntakeSource.objects.count() == 1


def test_rotate_and_deactivate(org, login):
    source, old = intake_source_create(actor=org["admin"], name="S", slug="s", team=org["north"])
    c = login(org["admin"])
    assert "token" not in c.post(f"/leads/intake-sources/{source.pk}/rotate/").context  # asks first
    new = c.post(f"/leads/intake-sources/{source.pk}/rotate/", {"confirm": "yes"}).context["token"]
    source.refresh_from_db()
    assert new != old and source.token_hash == hash_token(new)
    c.post(f"/leads/intake-sources/{source.pk}/toggle/", {"confirm": "yes"})
    source.refresh_from_db()
    assert not source.is_active
    assert c.get(f"/leads/intake-sources/{source.pk}/rotate/").status_code == 405
    assert login(org["maria"]).post(f"/leads/intake-sources/{source.pk}/rotate/").status_code == 403


def test_configure_menu_links_intake_sources(org, login):
    assert "/leads/intake-sources/" in login(org["admin"]).get("/").content.decode()


# --- CSV import in the browser ------------------------------------------------------------------------


def _csv(rows, header="name,company,email,phone,value,owner"):
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def _upload(c, data, team, name="leads.csv"):
    return c.post("/leads/import/", {"team": team.pk, "file": SimpleUploadedFile(name, data, "text/csv")})


def _confirm(c, preview_url, choice):
    """Confirm on the preview, then run the job as the worker would (in place)."""
    response = c.post(preview_url.replace("/preview/", "/confirm/"), {"choice": choice})
    job = ImportJob.objects.order_by("-pk").first()
    if job is not None and job.state == "queued":
        import_job_run(job_id=job.pk)
    return response


def test_import_preview_then_import_all(org, login):
    c = login(org["maria"])
    data = _csv(["Ann,Acme,ann@example.com,,100,bob", "Ben,,,+1 415 555 2671,0,"])
    preview_url = _upload(c, data, org["north"]).url
    job = ImportJob.objects.get()
    assert preview_url == f"/leads/import/{job.pk}/preview/"
    preview = c.get(preview_url)
    assert "2</strong> ready" in preview.content.decode()
    assert Lead.objects.count() == 0  # nothing written by the preview
    response = _confirm(c, preview_url, "all")
    assert response.url == f"/leads/import/jobs/{job.pk}/"
    assert Lead.objects.get(name="Ann").owner == org["bob"]
    assert Lead.objects.get(name="Ben").phone == "+14155552671"
    assert set(Lead.objects.values_list("channel", flat=True)) == {"csv"}
    body = c.get(response.url).content.decode()
    assert "Import of leads.csv done" in body and "2 leads created in North" in body


def test_import_with_bad_rows_imports_nothing_until_fixed(org, login):
    c = login(org["maria"])
    data = _csv(["Ann,,ann@example.com,,1,", "Bad,,not-an-email,,1,", ",,,,,", "Cid,,cid@example.com,,1,charlie"])
    preview_url = _upload(c, data, org["north"]).url
    body = c.get(preview_url).content.decode()
    assert "Enter a valid email address" in body and "no active member of the team" in body
    assert "1</strong> ready" in body and "2</strong> with errors" in body
    _confirm(c, preview_url, "cancel")
    assert Lead.objects.count() == 0
    assert not ImportJob.objects.exists()  # the upload is dropped with the choice


def test_import_all_with_bad_rows_refuses_and_keeps_the_preview(org, login):
    c = login(org["maria"])
    preview_url = _upload(c, _csv(["Ann,,ann@example.com,,1,", "Bad,,not-an-email,,1,"]), org["north"]).url
    response = _confirm(c, preview_url, "all")
    assert response.url == preview_url
    assert Lead.objects.count() == 0 and ImportJob.objects.get().state == "uploaded"


def test_import_good_rows_and_download_rejected(org, login):
    c = login(org["maria"])
    data = _csv(["Ann,,ann@example.com,,1,", "=cmd(),,not-an-email,,1,"])
    preview_url = _upload(c, data, org["north"]).url
    done = c.get(_confirm(c, preview_url, "good_rows").url)
    assert done.status_code == 200 and done.context["job"].imported == 1
    assert list(Lead.objects.values_list("name", flat=True)) == ["Ann"]
    report = c.get(f"/leads/import/jobs/{done.context['job'].pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0][0] == "line" and rows[0][-1] == "errors"
    assert rows[1][0] == "3" and rows[1][1] == "'=cmd()" and "valid email" in rows[1][-1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("name,email\nJosé,jose@example.com\n".encode("latin-1"), "not UTF-8"),
        (b"nom,courriel\nA,a@example.com\n", "unknown columns: nom, courriel"),
        (b"company,email\nAcme,a@example.com\n", "missing column: name"),
        (b"name,company\nA,B\n", "needs an email or a phone column"),
        (b"", "The submitted file is empty."),
        (b"name,email\n", "no rows"),
    ],
)
def test_import_file_problems_have_clear_messages(org, login, data, message):
    response = _upload(login(org["maria"]), data, org["north"])
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Lead.objects.count() == 0


def test_import_oversized_file(org, login, settings):
    settings.LEADS_IMPORT_MAX_BYTES = 100
    data = _csv([f"N{i},,n{i}@example.com,,1," for i in range(20)])
    response = _upload(login(org["maria"]), data, org["north"])
    assert response.status_code == 400 and "too large" in response.content.decode()


def test_manager_cannot_import_into_another_team_and_reps_do_not_import(org, login):
    response = _upload(login(org["maria"]), _csv(["Ann,,ann@example.com,,1,"]), org["south"])
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()
    _upload(login(org["maria"]), _csv(["Ann,,a@example.com,,1,"]), org["north"])
    job = ImportJob.objects.get()
    for url in ("/leads/import/", f"/leads/import/{job.pk}/preview/", f"/leads/import/jobs/{job.pk}/"):
        assert login(org["alice"]).get(url).status_code == 403
    assert login(org["alice"]).post(f"/leads/import/{job.pk}/confirm/", {"choice": "all"}).status_code == 403


def test_duplicates_in_import_join_existing_leads(org, login):
    LeadFactory(owner=org["alice"], team=org["north"], email="ann@example.com")
    c = login(org["maria"])
    preview_url = _upload(c, _csv(["Ann,,ANN@example.com,,1,"]), org["north"]).url
    _confirm(c, preview_url, "all")
    assert ImportJob.objects.get().duplicates == 1
    assert Lead.objects.count() == 1


# --- import_leads command ----------------------------------------------------------------------------


def test_command_imports_and_prints_summary(org, tmp_path, capsys):
    path = tmp_path / "leads.csv"
    path.write_bytes(_csv(["Ann,,ann@example.com,,1,", "Ben,,ben@example.com,,2,bob"]))
    call_command("import_leads", str(path), "--team", "North")
    assert "Imported 2 lead(s) into North; 0 matched open leads" in capsys.readouterr().out
    assert Lead.objects.get(name="Ben").owner == org["bob"]


def test_command_with_bad_rows_imports_nothing_or_skips(org, tmp_path, capsys):
    path = tmp_path / "leads.csv"
    path.write_bytes(_csv(["Ann,,ann@example.com,,1,", "Bad,,bad,,1,"]))
    with pytest.raises(CommandError, match="Nothing imported: 1 of 2 rows"):
        call_command("import_leads", str(path), "--team", "North")
    assert Lead.objects.count() == 0
    assert "line 3: email" in capsys.readouterr().err
    call_command("import_leads", str(path), "--team", "North", "--skip-bad")
    out = capsys.readouterr().out
    assert "Imported 1 lead(s)" in out and "1 row(s) rejected" in out
    assert Lead.objects.count() == 1


def test_command_bad_encoding_and_unknown_team(org, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes("name,email\nJosé,j@example.com\n".encode("cp1252"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_leads", str(path), "--team", "North")
    with pytest.raises(CommandError, match="No team called"):
        call_command("import_leads", str(path), "--team", "Nowhere")


# --- assignment settings per team ---------------------------------------------------------------------


def test_manager_sets_queue_mode_and_cap_for_own_team(org, login):
    from leads.models import TeamIntakeSettings

    c = login(org["maria"])
    assert "North" in c.get("/leads/assignment/").content.decode()
    response = c.post(f"/leads/assignment/{org['north'].pk}/", {"mode": "queue", "max_open_untouched": "3"})
    assert response.status_code == 302
    rule = TeamIntakeSettings.objects.get(team=org["north"])
    assert (rule.mode, rule.max_open_untouched) == ("queue", 3)
    bad = c.post(f"/leads/assignment/{org['north'].pk}/", {"mode": "queue", "max_open_untouched": "0"})
    assert bad.status_code == 400
    assert c.get(f"/leads/assignment/{org['south'].pk}/").status_code == 404  # not maria's team
    assert login(org["alice"]).get("/leads/assignment/").status_code == 403


@pytest.mark.parametrize("rows", [5, 50])
def test_intake_source_list_query_count_is_constant(org, login, django_assert_num_queries, rows):
    for i in range(rows):
        IntakeSourceFactory(team=org["north"] if i % 2 else org["south"])
    c = login(org["admin"])
    # session, user, unread count, sources with their team: constant;
    # +1: the admin's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(5):
        assert c.get("/leads/intake-sources/").status_code == 200


def test_timeline_is_read_only_in_django_admin(org, client):
    from tests.factories import UserFactory

    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    lead = LeadFactory(owner=org["alice"])
    entry = lead.activities.create(kind="call", actor=org["alice"], outcome="connected")
    assert client.get("/admin/leads/activity/add/").status_code == 403
    assert client.post(f"/admin/leads/activity/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"/admin/leads/activity/{entry.pk}/change/").status_code == 200  # view only
    assert lead.activities.filter(pk=entry.pk).exists()
