"""The review dashboard's cached rows (reviews.dashboard.cached_dashboard): every kind of write to
the tables behind them shows on the next view, through the services that make it."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability import dataversion
from accountability.expectations.services import acknowledgement_create
from accountability.models import Membership
from goals import services as goal_services
from goals.selectors import week_start
from leads.sla.models import SlaClock
from recognition import services as recognition_services
from recognition.models import Kudos
from reviews import drift
from reviews import services as review_services
from reviews.dashboard import ROW_MODELS, month_mondays
from reviews.models import ActionItem, DriftFlag
from tests.expectations.factories import published
from tests.factories import LeadFactory
from tests.goals.factories import GoalFactory
from tests.recognition.factories import CompanyValueFactory

pytestmark = pytest.mark.django_db
DASHBOARD = "reviews:dashboard"


def _cell(client, username: str, figure: str) -> str:
    """What the rep's row shows in one column, tags stripped."""
    body = client.get(reverse(DASHBOARD)).content.decode()
    row = body[body.index(f'data-rep="{username}"') :].split("</tr>")[0]
    cell = row[row.index(f'data-figure="{figure}"') :].split("</td>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", cell.split(">", 1)[1]).split())


@pytest.fixture
def maria_client(org, login):
    return login(org["maria"])


def test_action_items_created_closed_and_deleted_show_at_once(org, maria_client):
    alice = org["alice"]
    assert _cell(maria_client, "alice", "action_items") == "—"  # cached now
    item = ActionItem.objects.create(
        text="Call back", rep=alice, team=org["north"], owner=alice,
        due_date=timezone.localdate() - dt.timedelta(days=1), created_by=org["maria"],
    )  # fmt: skip
    assert _cell(maria_client, "alice", "action_items") == "1 (1 overdue)"
    review_services.action_item_close(actor=alice, item=item, status=ActionItem.Status.DONE)  # a conditional UPDATE
    assert _cell(maria_client, "alice", "action_items") == "—"
    other = ActionItem.objects.create(
        text="Tidy", rep=alice, team=org["north"], owner=alice, due_date=timezone.localdate(), created_by=org["maria"]
    )
    assert _cell(maria_client, "alice", "action_items") == "1"
    other.delete()
    assert _cell(maria_client, "alice", "action_items") == "—"


def test_a_goal_falling_behind_shows_at_once(org, maria_client):
    today = timezone.localdate()
    goal = GoalFactory(
        owner=org["alice"], start_date=today - dt.timedelta(days=5), end_date=today + dt.timedelta(days=20)
    )
    goal_services.goal_pacing_record(goal=goal, state="on_track")
    assert _cell(maria_client, "alice", "goals") == "—"
    goal_services.goal_pacing_record(goal=goal, state="behind")  # a conditional UPDATE
    assert _cell(maria_client, "alice", "goals") == "Behind"


def test_commitments_made_and_kept_show_at_once(org, login):
    alice = org["alice"]
    first, last = month_mondays(timezone.localdate())
    this_week = week_start()
    week = this_week if first <= this_week <= last else this_week + dt.timedelta(days=7)
    client = login(org["maria"])
    assert _cell(client, "alice", "commitments") == "—"
    commitment = goal_services.commitment_create(actor=alice, text="Call the ten oldest leads", week=week)
    assert _cell(client, "alice", "commitments") == "0/1"
    goal_services.commitment_set_done(actor=alice, commitment=commitment, done=True)
    assert _cell(client, "alice", "commitments") == "1/1"


def test_flags_raised_and_resolved_show_at_once(org, maria_client):
    assert _cell(maria_client, "alice", "flags") == "—"
    flag = DriftFlag.objects.create(
        rep=org["alice"], rule=DriftFlag.Rule.ESCALATIONS, week=week_start(), reason="3 escalations",
        raised_at=timezone.now(),
    )  # fmt: skip
    assert _cell(maria_client, "alice", "flags") == flag.get_rule_display()
    drift.flag_resolve(actor=org["maria"], flag=flag)
    assert _cell(maria_client, "alice", "flags") == "—"


def test_one_on_ones_scheduled_and_held_show_at_once(org, maria_client):
    assert _cell(maria_client, "alice", "next_one_on_one") == "—"
    now = timezone.now()
    series = review_services.series_create(
        actor=org["maria"], rep=org["alice"], cadence="weekly", weekday=now.weekday(), time=dt.time(0, 1)
    )
    meeting = series.meetings.get()
    assert _cell(maria_client, "alice", "next_one_on_one") != "—"
    assert _cell(maria_client, "alice", "last_one_on_one") == "—"
    review_services.meeting_close(actor=org["maria"], meeting=meeting, state="held", now=meeting.scheduled_at)
    assert _cell(maria_client, "alice", "last_one_on_one").endswith("ago")


def test_kudos_given_and_hidden_show_at_once(org, maria_client):
    assert _cell(maria_client, "alice", "last_recognition") == "—"
    kudos = recognition_services.kudos_give(
        actor=org["bob"], recipients=[org["alice"]], message="Picked up the Acme call and booked the demo.",
        values=[CompanyValueFactory(name="Own it")],
    )  # fmt: skip
    assert _cell(maria_client, "alice", "last_recognition") == "0 minutes ago"
    recognition_services.kudos_hide(actor=org["maria"], kudos=kudos, reason="Private matter")  # a conditional UPDATE
    assert Kudos.objects.get(pk=kudos.pk).hidden
    assert _cell(maria_client, "alice", "last_recognition") == "—"


def test_expectations_published_and_acknowledged_show_at_once(org, maria_client):
    assert _cell(maria_client, "alice", "acknowledged") == "—"
    version = published(org["admin"])
    assert _cell(maria_client, "alice", "acknowledged") == "No (1)"
    acknowledgement_create(actor=org["alice"], version=version)
    assert _cell(maria_client, "alice", "acknowledged") == "Yes"


def test_escalations_raised_and_handled_show_at_once(org, maria_client):
    now = timezone.now()
    lead = LeadFactory(owner=org["alice"], received_by=org["alice"], arrived_at=now - dt.timedelta(days=3))
    assert _cell(maria_client, "alice", "open_escalations") == "0"
    clock = SlaClock.objects.create(
        lead=lead, kind="first_contact", key="first_contact", anchor_at=lead.arrived_at,
        due_at=now - dt.timedelta(days=2), overdue_at=now - dt.timedelta(days=2),
        escalation_due_at=now - dt.timedelta(days=1), escalation2_due_at=now, explanation="x",
    )  # fmt: skip
    assert _cell(maria_client, "alice", "open_escalations") == "0"
    SlaClock.objects.filter(pk=clock.pk).update(escalated_at=now)  # as the sweep escalates
    assert _cell(maria_client, "alice", "open_escalations") == "1"
    SlaClock.objects.filter(pk=clock.pk).update(actioned_at=now)  # as a manager's reassignment handles it
    assert _cell(maria_client, "alice", "open_escalations") == "0"


def test_a_rep_moved_or_renamed_shows_at_once(org, maria_client):
    body = maria_client.get(reverse(DASHBOARD)).content.decode()
    assert 'data-rep="alice"' in body
    alice = org["alice"]
    alice.first_name = "Alicia"
    alice.save(update_fields=["first_name"])
    assert ">Alicia " in maria_client.get(reverse(DASHBOARD)).content.decode()
    Membership.objects.filter(user=alice).update(team=org["south"])
    assert 'data-rep="alice"' not in maria_client.get(reverse(DASHBOARD)).content.decode()


def test_the_cached_rows_are_the_ones_computed(org, login):
    """A second view reads the same rows from the cache: the same table, byte for byte, sorted
    by whatever column is asked."""
    client = login(org["maria"])
    ActionItem.objects.create(
        text="Call back", rep=org["bob"], team=org["north"], owner=org["bob"], due_date=timezone.localdate(),
        created_by=org["maria"],
    )  # fmt: skip

    def table(sort):
        body = client.get(reverse(DASHBOARD), {"sort": sort}).content.decode()
        return body[body.index('data-testid="review-dashboard"') : body.index("</table>")]

    first = table("-action_items")
    assert table("-action_items") == first
    assert first.index('data-rep="bob"') < first.index('data-rep="alice"')
    assert table("name").index('data-rep="alice"') < table("name").index('data-rep="bob"')


# --- The counters (accountability.dataversion) ----------------------------------------------


def test_every_table_behind_the_rows_is_tracked():
    assert all(dataversion.is_tracked(label) for label in ROW_MODELS)


def test_every_kind_of_write_moves_the_counter(org):
    label = ["reviews.actionitem"]

    def item(text="x"):
        return ActionItem(
            text=text, rep=org["alice"], team=org["north"], owner=org["alice"], due_date=timezone.localdate(),
            created_by=org["maria"],
        )  # fmt: skip

    seen = [dataversion.versions(label)]

    def moved():
        seen.append(dataversion.versions(label))
        return seen[-1] != seen[-2]

    first = item()
    first.save()
    assert moved()
    ActionItem.objects.filter(pk=first.pk).update(text="y")
    assert moved()
    ActionItem.objects.filter(pk=-1).update(text="y")
    assert not moved()  # nothing written
    made = ActionItem.objects.bulk_create([item("a"), item("b")])
    assert moved()
    for made_item in made:
        made_item.text = "c"
    ActionItem.objects.bulk_update(made, ["text"])
    assert moved()
    ActionItem.objects.filter(pk=made[0].pk).delete()
    assert moved()
    first.delete()
    assert moved()
    # Cascades: deleting the 1:1 series' meeting deletes its action items.
    series = review_services.series_create(
        actor=org["maria"], rep=org["alice"], cadence="weekly", weekday=1, time=dt.time(10)
    )
    meeting = series.meetings.get()
    review_services.action_item_create(
        actor=org["maria"], text="Call back", owner=org["alice"], due_date=timezone.localdate(), meeting=meeting
    )
    assert moved()
    meeting.delete()
    assert moved()


def test_the_counter_moves_again_at_the_commit_once_per_transaction(org, django_capture_on_commit_callbacks):
    """A view between a write and its commit read the old rows under the new counter: the commit
    moves it again. A thousand writes in one transaction register one callback per table."""
    label = ["reviews.actionitem"]

    def item():
        return ActionItem(
            text="x", rep=org["alice"], team=org["north"], owner=org["alice"], due_date=timezone.localdate(),
            created_by=org["maria"],
        )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        before = dataversion.versions(label)
        item().save()
        item().save()
        at_write = dataversion.versions(label)
        assert at_write != before
    assert len(callbacks) == 1
    assert dataversion.versions(label) != at_write


def test_a_write_succeeds_when_the_cache_is_unreachable(org, monkeypatch, caplog):
    """The write counters live in Redis: a Redis restart must not fail a goal, a kudos or an
    SLA notice being saved. The write goes through; the counter is left (the minute in every
    key catches the pages up)."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args, **kwargs):
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(dataversion.cache, "incr", down)
    monkeypatch.setattr(dataversion.cache, "add", down)
    goal = GoalFactory(owner=org["alice"], title="Saved anyway")
    ActionItem.objects.filter(pk__in=[]).update(text="nothing")  # no row: no write, no counter
    assert type(goal).objects.filter(pk=goal.pk, title="Saved anyway").exists()
    assert "cache is unreachable" in caplog.text
