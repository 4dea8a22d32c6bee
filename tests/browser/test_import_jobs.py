"""Background imports and exports as a manager clicks them.

The import of a few hundred rows is written by a REAL Celery worker (marked celery_worker);
the export runs its task in place (eager), as CELERY_TASK_ALWAYS_EAGER=1 would.

The worker is a `celery worker` subprocess on the test database (hence transaction=True) and on the
test run's own broker (REDIS_URL, which the web side of the test sends to), emptied first. The
page polls the job's progress with htmx until the worker is done, then shows the result and the
rejected rows' report.
"""

import csv
import io

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from leads.jobs.models import ImportJob
from leads.models import Lead
from tests.factories import LeadFactory
from tests.sla.test_worker import Harness, _redis_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://") or not _redis_up(broker):
        pytest.skip("Redis is not running for the test run's broker")
    redis.Redis.from_url(broker).flushdb()
    (tmp_path / "mail").mkdir()
    harness = Harness(tmp_path, tmp_path / "mail", broker)
    # Chunks of 40 rows, so the progress bar moves several times on the way.
    harness.worker("imports", concurrency=1, LEADS_IMPORT_CHUNK_ROWS="40")
    yield harness
    harness.stop_all()
    redis.Redis.from_url(broker).flushdb()


@pytest.mark.celery_worker
def test_manager_imports_300_rows_watches_the_progress_and_downloads_the_rejected_rows(
    page, browser_login, org, tmp_path, worker
):
    lines = ["name,company,email,phone,value,owner"]
    for i in range(300):
        email = "not-an-email" if i % 100 == 99 else f"buyer{i}@example.com"
        lines.append(f"Buyer {i},Firm {i},{email},,{i * 10},{'bob' if i % 2 else ''}")
    path = tmp_path / "buyers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    browser_login(org["maria"])
    page.goto("/leads/import/")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_label("Team").select_option(label="North")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("297 ready")
    page.get_by_role("button", name="Import the 297 good rows").click()

    job = page.get_by_test_id("import-job")
    expect(job).to_be_visible()
    assert page.url.endswith(f"/leads/import/jobs/{ImportJob.objects.get().pk}/")
    # The worker takes seconds for 300 rows; the page polls until it is done, without a reload.
    page.evaluate("window.__noReload = true")
    expect(job).to_have_attribute("data-state", "done", timeout=90_000)
    assert page.evaluate("window.__noReload") is True
    expect(page.get_by_test_id("import-result")).to_contain_text("297 leads created in North")
    expect(page.get_by_test_id("import-result")).to_contain_text("3 rows rejected")
    assert Lead.objects.filter(team=org["north"]).count() == 297
    assert Lead.objects.filter(owner=org["bob"]).count() >= 150 - 2  # the file's owner column was used

    with page.expect_download() as download:
        page.get_by_test_id("rejected-report").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [r[0] for r in rows] == ["line", "101", "201", "301"]
    assert all("Enter a valid email address" in r[-1] for r in rows[1:])

    page.get_by_test_id("imported-leads").click()
    expect(page.get_by_test_id("import-filter")).to_be_visible()
    expect(page.get_by_text("297 leads", exact=True)).to_be_visible()


@pytest.fixture
def eager_tasks():
    """Tasks run in place when enqueued (after the request's commit), as CELERY_TASK_ALWAYS_EAGER=1 does."""
    from accountability.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_large_export_is_prepared_in_the_background_and_downloaded(page, browser_login, org, settings, eager_tasks):
    settings.LEADS_EXPORT_SYNC_MAX_ROWS = 3  # "large" for the test: above 3 leads
    for i in range(5):
        LeadFactory(owner=org["alice"], team=org["north"], name=f"Export Emma {i}")
    browser_login(org["maria"])
    page.goto("/leads/")
    page.get_by_test_id("export").click()
    expect(page.get_by_test_id("export-large")).to_contain_text("more than 3 leads")
    page.get_by_role("button", name="Prepare the export").click()
    expect(page.get_by_test_id("export-job")).to_have_attribute("data-state", "done")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["id", "name"] and sorted(r[1] for r in rows[1:]) == [f"Export Emma {i}" for i in range(5)]
