"""The daily rollup: leads.metrics gives the same figures from it as from the raw rows."""

import importlib
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from leads.metrics import Period, closedcache, rep_scorecards, team_scorecards, total_scorecard
from leads.models import Activity, FollowUp, Lead, RepDay, RollupState, TeamDay
from leads.rollup import rollup_build, rollup_refresh
from tests.factories import ActivityFactory, FollowUpFactory, LeadFactory
from tests.leads.factories_metrics import received_lead

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def _random_history(org, rng: random.Random, n_leads=90):
    """Leads, contacts, saves, follow-ups (kept, late, open, cancelled), entries and closes over
    the 40 days before NOW, many of them within minutes of a local midnight."""
    north, south = org["north"], org["south"]
    north.time_zone, south.time_zone = "Europe/Berlin", "America/New_York"
    north.save()
    south.save()
    reps = [org["alice"], org["bob"], org["charlie"]]
    for i in range(n_leads):
        rep = rng.choice(reps)
        zone = BERLIN if rep != org["charlie"] else NEW_YORK
        day = (NOW - timedelta(days=rng.randint(0, 40))).astimezone(zone).date()
        # Half of them right around a local midnight (the day boundaries), half anywhere.
        if i % 2:
            local = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(minutes=rng.randint(-3, 3))
        else:
            local = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(minutes=rng.randint(0, 1439))
        arrived = local.astimezone(UTC)
        if arrived >= NOW:
            continue
        contacted_after = (
            timedelta(minutes=rng.choice([1, 7, 59, 61, 240, 1439, 1441, 3000])) if rng.random() < 0.8 else None
        )
        if contacted_after is not None and arrived + contacted_after >= NOW:
            contacted_after = None
        saver = rng.choice([r for r in reps if r != rep and r.teams.first() == rep.teams.first()] or [rep])
        by = saver if (contacted_after is not None and rng.random() < 0.15) else None
        closed = None
        stage = None
        if contacted_after is not None and rng.random() < 0.4:
            closed = min(arrived + contacted_after + timedelta(hours=rng.randint(1, 200)), NOW - timedelta(minutes=1))
            stage = rng.choice([Lead.Stage.WON, Lead.Stage.LOST])
        # Speed to lead in business minutes differs from wall clock (nights and weekends left
        # out); now and then a contacted lead has none stored (a lead from before the column).
        business = None
        if contacted_after is not None and rng.random() < 0.9:
            business = round(contacted_after.total_seconds() / 60 * rng.choice([1, 0.5, 0.1]), 1)
        lead = received_lead(
            rep, arrived_at=arrived, contacted_after=contacted_after, contacted_by=by, stage=stage, closed_at=closed,
            value=rng.randint(0, 5000), first_contact_business_minutes=business,
        )  # fmt: skip
        if rng.random() < 0.7:
            due = arrived + timedelta(hours=rng.randint(1, 100))
            state = rng.choice(
                [FollowUp.State.DONE, FollowUp.State.DONE, FollowUp.State.OPEN, FollowUp.State.CANCELLED]
            )
            done_at = due + timedelta(minutes=rng.choice([-30, 30])) if state == FollowUp.State.DONE else None
            if state == FollowUp.State.OPEN and Lead.objects.filter(pk=lead.pk, follow_ups__state="open").exists():
                state = FollowUp.State.CANCELLED
            FollowUpFactory(lead=lead, owner=rep, due_at=due, state=state, done_at=done_at)
        for _ in range(rng.randint(0, 3)):
            at = arrived + timedelta(minutes=rng.randint(0, 3000))
            if at < NOW:
                ActivityFactory(lead=lead, actor=rep, kind=rng.choice(Activity.LOGGABLE), occurred_at=at)
    # A lead in the unassigned queue counts in its team's total only.
    LeadFactory(owner=None, team=north, arrived_at=NOW - timedelta(days=3), received_by=None)


def _random_periods(rng: random.Random, n=12):
    periods = [Period.last_days(7, tz=BERLIN, now=NOW), Period.last_days(30, tz=NEW_YORK, now=NOW)]
    for _ in range(n):
        zone = rng.choice([BERLIN, NEW_YORK, UTC])
        first = date(2026, 10, 8) + timedelta(days=rng.randint(0, 40))
        last = first + timedelta(days=rng.randint(0, 20))
        periods.append(Period.between(first, last, zone))
    # A period that is not whole days anywhere.
    periods.append(Period(NOW - timedelta(days=9, hours=5, minutes=7), NOW - timedelta(hours=1)))
    return periods


def _figures(org, period):
    reps = [org["alice"], org["bob"], org["charlie"]]
    cards = rep_scorecards(period=period, users=reps, now=NOW)
    north_cards, north_total = team_scorecards(
        period=period, team_ids={org["north"].pk}, users=[org["alice"], org["bob"]], now=NOW
    )
    return (
        cards,
        north_cards,
        north_total,
        total_scorecard(period=period, team=org["sales"], now=NOW),
        total_scorecard(period=period, now=NOW),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_and_raw_rows_agree_on_random_periods_in_two_zones(org, seed):
    rng = random.Random(seed)
    _random_history(org, rng)
    periods = _random_periods(rng)
    raw = [_figures(org, period) for period in periods]
    result = rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    assert result.rep_rows and result.team_rows
    # Rows stop at each zone's yesterday: today is always read raw.
    assert not RepDay.objects.filter(ends_at__gt=NOW).exists()
    assert RepDay.objects.filter(user=org["charlie"], time_zone="America/New_York").exists()
    for period, expected in zip(periods, raw, strict=True):
        # Scorecards compare every field: the business and the wall-clock percentiles included.
        assert _figures(org, period) == expected, period
    # The two speed figures are really there, and differ (business minutes are not wall clock).
    cards = [card for figures in raw for card in [*figures[0].values(), figures[2], figures[3], figures[4]]]
    assert any(c.speed_to_lead_wall_median is not None for c in cards)
    assert any(c.speed_to_lead_median != c.speed_to_lead_wall_median for c in cards)
    assert any(c.speed_to_lead_p90 != c.speed_to_lead_wall_p90 for c in cards)


def test_rollup_is_really_read_and_a_gap_falls_back_to_raw(org):
    rng = random.Random(7)
    _random_history(org, rng, n_leads=40)
    period = Period.last_days(30, tz=BERLIN, now=NOW)
    expected = rep_scorecards(period=period, users=[org["alice"]], now=NOW)
    rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    # Tampering with a row shows the figure now comes from it.
    row = RepDay.objects.filter(user=org["alice"], received__gt=0, starts_at__gte=period.start).first()
    RepDay.objects.filter(pk=row.pk).update(received=row.received + 100)
    assert rep_scorecards(period=period, users=[org["alice"]], now=NOW)[org["alice"].pk].leads_received == (
        expected[org["alice"].pk].leads_received + 100
    )
    # The wall-clock percentiles come from the row's own list too (and business ones from theirs).
    RepDay.objects.filter(pk=row.pk).update(received=row.received, first_contact_wall_minutes=[1e6] * 200)
    # What the rollup says is cached per rollup version: a write that bypasses leads.rollup (as
    # this test's) is not seen until the version changes, which every rollup build does.
    assert rep_scorecards(period=period, users=[org["alice"]], now=NOW)[org["alice"].pk].leads_received == (
        expected[org["alice"].pk].leads_received + 100
    )
    closedcache.bump(NOW)
    card = rep_scorecards(period=period, users=[org["alice"]], now=NOW)[org["alice"].pk]
    assert card.speed_to_lead_wall_median == Decimal("1000000.0")
    assert card.speed_to_lead_median == expected[org["alice"].pk].speed_to_lead_median
    RepDay.objects.filter(pk=row.pk).update(first_contact_wall_minutes=row.first_contact_wall_minutes)
    closedcache.bump(NOW)
    team_total = total_scorecard(period=period, team=org["north"], now=NOW)
    TeamDay.objects.filter(team=org["north"], day=row.day).update(won=50)
    closedcache.bump(NOW)
    assert total_scorecard(period=period, team=org["north"], now=NOW).deals_won >= 50 > team_total.deals_won
    TeamDay.objects.filter(team=org["north"], day=row.day).update(won=0)
    # A missing day in the middle: the whole period is read raw, never half and half.
    RepDay.objects.filter(pk=row.pk).update(received=row.received)
    RepDay.objects.filter(user=org["alice"], day=row.day + timedelta(days=1)).delete()
    closedcache.bump(NOW)
    assert rep_scorecards(period=period, users=[org["alice"]], now=NOW) == expected


def test_rollup_build_twice_writes_the_same_rows(org):
    _random_history(org, random.Random(4), n_leads=30)
    rollup_build(start=date(2026, 11, 1), end=date(2026, 11, 30), now=NOW)
    first = list(RepDay.objects.order_by("user_id", "day").values())
    rollup_build(start=date(2026, 11, 1), end=date(2026, 11, 30), now=NOW)
    assert list(RepDay.objects.order_by("user_id", "day").values()) == first
    # One row per person and day (zeros included), none for today or later.
    days = RepDay.objects.filter(user=org["alice"]).count()
    assert days == (NOW.astimezone(BERLIN).date() - date(2026, 11, 1)).days
    assert TeamDay.objects.filter(team=org["north"]).count() == days


def test_nightly_refresh_rolls_yesterday_and_re_rolls_days_changed_since(org):
    alice = org["alice"]
    arrived = NOW - timedelta(days=10)
    lead = received_lead(alice, arrived_at=arrived)
    rollup_refresh(now=NOW)
    row = RepDay.objects.get(user=alice, day=arrived.date())
    assert (row.received, row.contacted) == (1, 0)
    # Contacted a day later: the next run re-rolls the day it arrived.
    later = NOW + timedelta(days=1)
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=later - timedelta(hours=1), first_contacted_by=alice)
    Lead.objects.filter(pk=lead.pk).update(updated_at=later - timedelta(hours=1))
    rollup_refresh(now=later)
    row.refresh_from_db()
    assert (row.received, row.contacted) == (1, 1)
    assert RollupState.objects.get().last_run_at == later
    # The same run again changes nothing.
    rollup_refresh(now=later)
    row_again = RepDay.objects.get(pk=row.pk)
    assert row_again.first_contact_minutes == row.first_contact_minutes


def test_rollup_rebuild_command(org, capsys):
    received_lead(org["alice"], arrived_at=datetime(2026, 11, 2, 10, tzinfo=UTC))
    call_command("rollup_rebuild", "--start", "2026-11-01", "--end", "2026-11-03")
    assert RepDay.objects.get(user=org["alice"], day=date(2026, 11, 2)).received == 1
    assert "person-days" in capsys.readouterr().out


def test_team_totals_equal_total_scorecard_per_team(org):
    from leads.metrics import team_totals

    _random_history(org, random.Random(11), n_leads=60)
    rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    for period in _random_periods(random.Random(12), n=4):
        cards = rep_scorecards(period=period, users=[org["alice"], org["bob"], org["charlie"]], now=NOW)
        teams = {"north": {org["north"].pk}, "south": {org["south"].pk}}
        members = {"north": {org["alice"].pk, org["bob"].pk}, "south": {org["charlie"].pk}}
        totals = team_totals(period=period, teams=teams, members=members, member_cards=cards, now=NOW)
        assert totals["north"] == total_scorecard(period=period, team=org["north"], now=NOW), period
        assert totals["south"] == total_scorecard(period=period, team=org["south"], now=NOW), period


def test_migration_fills_the_wall_clock_minutes_of_rows_rolled_up_before_it(org):
    _random_history(org, random.Random(5), n_leads=40)
    rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    rep_rows = dict(RepDay.objects.values_list("pk", "first_contact_wall_minutes"))
    team_rows = dict(TeamDay.objects.values_list("pk", "first_contact_wall_minutes"))
    assert any(rep_rows.values()) and any(team_rows.values())
    RepDay.objects.update(first_contact_wall_minutes=[])
    TeamDay.objects.update(first_contact_wall_minutes=[])
    migration = importlib.import_module("leads.migrations.0011_rollup_wall_clock_minutes")
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert dict(RepDay.objects.values_list("pk", "first_contact_wall_minutes")) == rep_rows
    assert dict(TeamDay.objects.values_list("pk", "first_contact_wall_minutes")) == team_rows
