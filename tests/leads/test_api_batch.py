"""POST /api/v1/leads/batch/: many leads a request, each answered on its own, and the query
budget of the intake path (one lead and a batch)."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from accountability.notifications.models import Delivery, Notification, NotificationPreference
from leads.models import Activity, IdempotencyKey, Lead, TeamIntakeSettings
from leads.services import intake_source_create, intake_source_set_active

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads/batch/"


@pytest.fixture
def token(org):
    _source, token = intake_source_create(actor=org["admin"], name="Website", slug="website", team=org["north"])
    return token


def post(token, body, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = body if isinstance(body, str) else json.dumps(body)
    return Client().post(URL, data=data, content_type="application/json", **headers)


def lead(i, **extra):
    return {"name": f"Lead {i}", "email": f"lead{i}@example.com", **extra}


def test_each_lead_gets_its_result_in_order_and_a_bad_one_blocks_nothing(token, org):
    response = post(
        token,
        {
            "leads": [
                lead(0, value="120.50"),
                {"name": "No contact"},
                "not an object",
                {"name": "Kim", "phone": "+44 20 7946 0958"},
                {"name": "Bad", "email": "nope"},
            ]
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["failed"]) == (2, 0, 3)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [201, 400, 400, 201, 400]
    assert results[1]["errors"] == {"email": ["Give an email address or a phone number."]}
    assert "email" in results[4]["errors"]
    first, kim = Lead.objects.get(pk=results[0]["id"]), Lead.objects.get(pk=results[3]["id"])
    assert (first.email, first.value, first.channel) == ("lead0@example.com", 120.5, "api")
    assert first.source.slug == "website"
    assert kim.phone == "+442079460958"
    assert Lead.objects.count() == 2  # nothing of the bad ones was saved


def test_a_batch_is_shared_round_robin_from_where_single_posts_left_off(token, org):
    single = Client().post(
        "/api/v1/leads/", data=json.dumps(lead(99)), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert single.json()["owner"]["id"] == org["alice"].pk
    results = post(token, {"leads": [lead(i) for i in range(5)]}).json()["results"]
    alice, bob = org["alice"].pk, org["bob"].pk
    assert [r["owner"]["id"] for r in results] == [bob, alice, bob, alice, bob]
    assert TeamIntakeSettings.objects.get(team=org["north"]).last_assigned_id == bob
    # Each lead's timeline: arrived, then assigned by round-robin; its owner notified once.
    new = Lead.objects.get(pk=results[0]["id"])
    assert list(new.activities.order_by("id").values_list("kind", "data__how")) == [
        ("arrived", None),
        ("assigned", "round_robin"),
    ]
    assert new.received_by_id == bob and new.assigned_at is not None
    notices = Notification.objects.filter(kind="lead_assigned")
    assert notices.filter(recipient_id=bob, dedupe_key__startswith=f"lead-assigned:{new.pk}:").count() == 1
    assert notices.count() == 6


def test_the_cap_and_the_queue_hold_inside_one_batch(token, org):
    TeamIntakeSettings.objects.create(team=org["north"], max_open_untouched=1)
    results = post(token, {"leads": [lead(i) for i in range(4)]}).json()["results"]
    owners = [r["owner"]["id"] if r["owner"] else None for r in results]
    assert sorted(o for o in owners if o) == sorted([org["alice"].pk, org["bob"].pk])
    assert owners[2:] == [None, None]
    queued = Lead.objects.get(pk=results[3]["id"])
    assigned = queued.activities.get(kind="assigned")
    assert assigned.data["how"] == "queue" and "at the cap" in assigned.body


def test_duplicates_join_open_leads_also_within_the_batch(token, org):
    first = post(token, {"leads": [lead(1, phone="+1 415 555 2671")]}).json()["results"][0]
    body = post(
        token,
        {
            "leads": [
                {"name": "Lead 1 again", "email": "LEAD1@example.com", "phone": "+1 415 555 0000", "notes": "Call me"},
                lead(2),
                {"name": "Lead 2 twin", "email": "lead2@example.com", "company": "Twin Co"},
            ]
        },
    ).json()
    assert (body["created"], body["duplicates"]) == (1, 2)
    joined, new, twin = body["results"]
    assert (joined["id"], joined["duplicate"]) == (first["id"], True)
    assert (twin["id"], twin["duplicate"], new["duplicate"]) == (new["id"], True, False)
    inquiry = Activity.objects.get(lead_id=first["id"], kind="inquiry")
    assert inquiry.body == "Call me"
    assert inquiry.data["differs"]["phone"] == {"lead": "+14155552671", "inquiry": "+14155550000"}
    assert Activity.objects.get(lead_id=new["id"], kind="inquiry").data["differs"]["company"]["inquiry"] == "Twin Co"
    owner = Lead.objects.get(pk=first["id"]).owner
    notice = Notification.objects.get(recipient=owner, kind="lead_inquiry", url=f"/leads/{first['id']}/")
    assert "+14155550000" in notice.body and "Call me" in notice.body
    assert Lead.objects.count() == 2


def test_a_retried_batch_creates_nothing_twice(token, org):
    batch = {"leads": [lead(i, idempotency_key=f"k{i}") for i in range(3)] + [lead(3)]}
    first = post(token, batch).json()
    retry = post(token, batch).json()
    assert [r["id"] for r in retry["results"][:3]] == [r["id"] for r in first["results"][:3]]
    assert [r["duplicate"] for r in retry["results"]] == [False, False, False, True]  # the keyless one joins
    assert Lead.objects.count() == 4
    assert IdempotencyKey.objects.count() == 3
    assert Activity.objects.filter(kind="inquiry").count() == 1  # only the lead sent without a key
    assert Notification.objects.filter(kind="lead_assigned").count() == 4


def test_keys_repeated_inside_one_batch(token, org):
    body = post(
        token,
        {
            "leads": [
                lead(1, idempotency_key="same"),
                lead(1, idempotency_key="same"),  # the same lead twice: one lead, the same answer
                lead(2, idempotency_key="same"),  # another lead under a used key: refused
            ]
        },
    ).json()
    a, b, c = body["results"]
    assert a["status"] == b["status"] == 201 and a["id"] == b["id"] and b["duplicate"] is False
    assert c["status"] == 409 and "already used" in c["detail"]
    assert Lead.objects.count() == 1
    # Across requests too: the key stands for the first lead.
    again = post(token, {"leads": [lead(3, idempotency_key="same")]}).json()["results"][0]
    assert again["status"] == 409
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1, 2]", "Send a JSON object with a list of leads"),
        ({"leads": {"name": "Jo"}}, "Send a JSON object with a list of leads"),
        ({"lead": []}, "Send a JSON object with a list of leads"),
        ({"leads": []}, "send at least one lead"),
        ({"leads": [lead(i) for i in range(501)]}, "At most 500 leads a request; this one has 501"),
        ("{not json", None),
    ],
)
def test_an_unusable_list_is_a_json_400_and_creates_nothing(token, body, message):
    response = post(token, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    if message:
        assert message in response.json()["leads"][0]
    assert not Lead.objects.exists()


def test_an_idempotency_key_header_on_a_batch_is_refused(token):
    response = post(token, {"leads": [lead(1)]}, HTTP_IDEMPOTENCY_KEY="whole-batch")
    assert response.status_code == 400
    assert "idempotency_key on each lead" in response.json()["Idempotency-Key"][0]
    assert not Lead.objects.exists()


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Token x"])
def test_a_wrong_token_is_401(token, auth):
    headers = {} if auth is None else {"HTTP_AUTHORIZATION": auth}
    response = post(None, {"leads": [lead(1)]}, **headers)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert not Lead.objects.exists()


def test_a_disabled_source_is_401(token, org):
    from leads.models import IntakeSource

    intake_source_set_active(actor=org["admin"], source=IntakeSource.objects.get(slug="website"), is_active=False)
    response = post(token, {"leads": [lead(1)]})
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]
    assert not Lead.objects.exists()


def test_single_and_batch_share_the_sources_rate_limit(token, settings):
    settings.LEADS_API_RATE_PER_MINUTE = 2
    assert post(token, {"leads": [lead(i) for i in range(10)]}).status_code == 200  # a batch counts once
    single = Client().post(
        "/api/v1/leads/", data=json.dumps(lead(50)), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert single.status_code == 201
    limited = post(token, {"leads": [lead(60)]})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert Lead.objects.count() == 11


def test_a_body_over_the_batch_limit_is_a_json_413(token, settings):
    settings.LEADS_API_BATCH_MAX_BODY_BYTES = 2000
    response = post(token, {"leads": [lead(i, notes="x" * 100) for i in range(30)]})
    assert response.status_code == 413
    assert "2000 bytes" in response.json()["detail"]
    assert not Lead.objects.exists()


def test_email_notices_are_enqueued_on_commit_once(token, org, django_capture_on_commit_callbacks, monkeypatch):
    NotificationPreference.objects.create(user=org["alice"], kind="lead_assigned", email=True)
    org["alice"].email = "alice@example.com"
    org["alice"].save()
    sent = []
    monkeypatch.setattr("accountability.tasking.task_send", lambda name, args: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(token, {"leads": [lead(i) for i in range(4)]})
    assert sent == []  # nothing leaves before the commit
    deliveries = Delivery.objects.filter(notification__recipient=org["alice"], channel="email")
    assert deliveries.count() == 2  # alice got two of the four leads; bob kept in-app only
    assert not Delivery.objects.filter(notification__recipient=org["bob"]).exists()
    for callback in callbacks:
        callback()
    assert [(name, sorted(args[0])) for name, args in sent] == [
        ("accountability.notifications.tasks.deliveries_send", sorted(d.pk for d in deliveries))
    ]


@pytest.mark.parametrize("size", [5, 50])
def test_a_batchs_queries_do_not_grow_with_its_leads(token, size, django_assert_num_queries):
    post(token, {"leads": [lead(1000)]})  # the team's settings row exists from here on
    # token, BEGIN, team lock, keys, duplicates, reps, lead ids, one statement for the leads, key rows,
    # pointer and timeline entries, notices, COMMIT
    batch = [lead(i, idempotency_key=f"k{i}") for i in range(size)]
    with django_assert_num_queries(10):
        assert post(token, {"leads": batch}).json()["created"] == size


def test_one_new_lead_takes_half_the_queries_it_did(token, django_assert_num_queries):
    """Token with the stored answer of its key, BEGIN, team lock with the new lead's id, duplicate
    check, eligible reps with their notice preference, one statement for the lead, its key row, the
    pointer and its timeline entries, the notice, COMMIT: 8, was 19."""
    single = "/api/v1/leads/"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/json"}
    Client().post(single, data=json.dumps(lead(0)), **auth)
    with django_assert_num_queries(8):
        assert Client().post(single, data=json.dumps(lead(1)), HTTP_IDEMPOTENCY_KEY="k1", **auth).status_code == 201
    with django_assert_num_queries(8):  # no key: the same, without the key row
        assert Client().post(single, data=json.dumps(lead(2)), **auth).status_code == 201
    with django_assert_num_queries(1):  # a retry: answered from the key, no transaction
        assert Client().post(single, data=json.dumps(lead(1)), HTTP_IDEMPOTENCY_KEY="k1", **auth).status_code == 201
    # A duplicate: token, BEGIN, lock, duplicate, inquiry entry, notice, owner's preference, COMMIT.
    with django_assert_num_queries(8):
        assert Client().post(single, data=json.dumps(lead(2)), **auth).json()["duplicate"] is True


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_creates_each_lead_once(token):
    batch = {"leads": [lead(i, idempotency_key=f"k{i}") for i in range(20)]}
    answers, errors = [], []
    barrier = threading.Barrier(3)

    def send():
        try:
            barrier.wait()
            answers.append(post(token, batch).json())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({tuple(r["id"] for r in a["results"]) for a in answers}) == 1
    assert Lead.objects.count() == 20
    assert not Activity.objects.filter(kind="inquiry").exists()


def test_the_intake_sql_picks_the_reps_eligible_reps_picks(org):
    """The API's reps query writes available_reps_q() in SQL: it must pick the same people."""
    from datetime import timedelta

    from django.utils import timezone

    from accountability.models import Membership
    from leads.services import _reps_for_round_robin, eligible_reps
    from tests.factories import LeadFactory, UserFactory

    north, today = org["north"], timezone.localdate()
    people = {
        "away_today": {"away_until": today},
        "back_today": {"away_until": today - timedelta(days=1)},
        "inactive": {"is_active": False},
        "manager": {"role": "manager"},
        "away_from_tomorrow": {"away_from": today + timedelta(days=1), "away_until": today + timedelta(days=5)},
        "away_from_today": {"away_from": today, "away_until": today + timedelta(days=5)},
        "invited": {"invited": True},  # an invitation still pending: no usable password yet
    }
    for username, fields in people.items():
        invited = fields.pop("invited", False)
        user = UserFactory(username=username, role=fields.pop("role", "rep"), **fields)
        if invited:
            user.set_unusable_password()
            user.save()
        Membership.objects.create(user=user, team=north)
    rule = TeamIntakeSettings.objects.create(team=north, max_open_untouched=5)
    LeadFactory(owner=org["alice"], team=north)
    LeadFactory(owner=org["alice"], team=north, first_contacted_at=timezone.now())  # contacted: not counted
    reps = _reps_for_round_robin(rule)
    assert [r.pk for r in reps] == [r.pk for r in eligible_reps(north)]
    assert {r.username for r in reps} == {"alice", "bob", "back_today", "away_from_tomorrow"}
    assert {r.username: r.load for r in reps} == {"alice": 1, "bob": 0, "back_today": 0, "away_from_tomorrow": 0}


def test_without_postgresql_the_api_answers_the_same_through_lead_create(token, org, monkeypatch):
    """make run's no-setup SQLite cannot run the intake SQL: the ORM path gives the same answers."""
    monkeypatch.setattr("leads.services._on_postgresql", lambda: False)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/json"}
    first = Client().post("/api/v1/leads/", data=json.dumps(lead(1)), HTTP_IDEMPOTENCY_KEY="k1", **auth)
    assert first.status_code == 201 and first.json()["owner"]["id"] == org["alice"].pk
    retry = Client().post("/api/v1/leads/", data=json.dumps(lead(1)), HTTP_IDEMPOTENCY_KEY="k1", **auth)
    assert retry.json() == first.json()
    body = post(
        token,
        {
            "leads": [
                lead(2, idempotency_key="k2"),
                lead(2, idempotency_key="k2"),
                lead(3, idempotency_key="k2"),
                {"name": "Lead 1 again", "email": "lead1@example.com"},
            ]
        },
    ).json()
    statuses = [(r["status"], r.get("id"), r.get("duplicate")) for r in body["results"]]
    new_id = statuses[0][1]
    assert statuses == [(201, new_id, False), (201, new_id, False), (409, None, None), (201, first.json()["id"], True)]
    assert body["results"][0]["owner"]["id"] == org["bob"].pk
    assert Lead.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_leads_posted_at_once_one_by_one_are_shared_fairly(token, org):
    """The team lock (now SQL of its own) still serialises assignment: 8 leads at once, 4 each."""
    from collections import Counter

    owners, errors = [], []
    barrier = threading.Barrier(8)

    def send(i):
        try:
            barrier.wait()
            response = Client().post(
                "/api/v1/leads/", data=json.dumps(lead(i)), content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )  # fmt: skip
            owners.append(response.json()["owner"]["id"])
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Counter(owners) == {org["alice"].pk: 4, org["bob"].pk: 4}
    assert Lead.objects.count() == 8


@pytest.mark.parametrize("path", ["/api/v1/leads/", "/api/v1/leads/batch/"])
def test_api_leads_reach_the_assignees_chat_webhook(token, org, path):
    """The intake path reads reps' preferences in its own query: a rep who chose chat for new
    leads gets a chat delivery for an API lead as for any other (and one without any preference
    row gets none: the preference read is None)."""
    from accountability.notifications.services import chat_webhook_save

    chat_webhook_save(
        actor=org["alice"], user=org["alice"], service="slack", url="https://hooks.slack.com/services/T/B/abcdefgh"
    )
    NotificationPreference.objects.create(user=org["alice"], kind="lead_assigned", chat=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/json"}
    body = {"leads": [lead(1), lead(2)]} if path.endswith("batch/") else lead(1)
    assert Client().post(path, data=json.dumps(body), **auth).status_code in (200, 201, 207)
    if not path.endswith("batch/"):
        Client().post(path, data=json.dumps(lead(2)), **auth)
    chats = Delivery.objects.filter(channel="chat")
    assert [d.notification.recipient_id for d in chats] == [org["alice"].pk]
    assert not Delivery.objects.filter(notification__recipient=org["bob"]).exists()
