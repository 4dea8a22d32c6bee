"""The metrics module, against hand-computed figures.

Fixed clock: NOW is 2026-11-25 12:00 UTC; PERIOD is November 2026 in UTC, [Nov 1, Dec 1).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from leads.metrics import (
    METRIC_DIRECTION,
    METRIC_UNITS,
    Metric,
    Period,
    metric_value,
    metric_values_by_user,
    percentile,
    rep_scorecards,
    team_scorecards,
    total_scorecard,
)
from leads.models import Activity, FollowUp, Lead
from tests.factories import ActivityFactory, FollowUpFactory, LeadFactory, MembershipFactory, TeamFactory, UserFactory
from tests.leads.factories_metrics import assign, received_lead

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PERIOD = Period.between(date(2026, 11, 1), date(2026, 11, 30), "UTC")
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def card(user, **kwargs):
    return rep_scorecards(period=PERIOD, users=[user], now=NOW, **kwargs)[user.pk]


# --- Period ------------------------------------------------------------------------------------


def test_period_last_days_is_whole_days_including_today():
    p = Period.last_days(7, tz="UTC", now=NOW)
    assert p.start == datetime(2026, 11, 19, tzinfo=UTC)
    assert p.end == datetime(2026, 11, 26, tzinfo=UTC)


def test_period_month_and_range_follow_the_time_zone():
    feb = Period.month_of(date(2026, 2, 10), tz="UTC")
    assert (feb.start, feb.end) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    dec = Period.month_of(date(2026, 12, 31), tz="UTC")
    assert dec.end == datetime(2027, 1, 1, tzinfo=UTC)
    ny = Period.between(date(2026, 11, 2), date(2026, 11, 3), "America/New_York")
    # New York is UTC-5 in November: the two days run 05:00 UTC to 05:00 UTC.
    assert ny.start.astimezone(UTC) == datetime(2026, 11, 2, 5, tzinfo=UTC)
    assert ny.end.astimezone(UTC) == datetime(2026, 11, 4, 5, tzinfo=UTC)
    assert str(ny) == "2026-11-02 to 2026-11-03"


def test_period_filter_is_half_open(org):
    at_start = LeadFactory(owner=org["alice"], arrived_at=PERIOD.start)
    LeadFactory(owner=org["alice"], arrived_at=PERIOD.end)
    assert list(Lead.objects.filter(PERIOD.filter("arrived_at"))) == [at_start]


def test_period_rejects_naive_and_reversed():
    with pytest.raises(ValueError):
        Period(datetime(2026, 1, 1), datetime(2026, 2, 1))
    with pytest.raises(ValueError):
        Period.between(date(2026, 2, 1), date(2026, 1, 1), "UTC")


def test_every_metric_has_a_unit_and_a_direction():
    assert set(METRIC_UNITS) == set(Metric) == set(METRIC_DIRECTION)
    assert METRIC_DIRECTION[Metric.SPEED_TO_LEAD_MEDIAN] == "down"
    assert METRIC_DIRECTION[Metric.DEALS_WON] == "up"


# --- No data -------------------------------------------------------------------------------------


def test_a_rep_with_no_leads_has_zeros_and_undefined_rates(org):
    c = card(org["alice"])
    assert (c.leads_received, c.leads_contacted, c.activities, c.deals_won, c.neglected, c.saved) == (0, 0, 0, 0, 0, 0)
    assert c.speed_to_lead_median is None and c.speed_to_lead_p90 is None
    assert c.follow_up_compliance is None
    assert c.conversion_rate is None
    assert c.value_won == Decimal("0.00")
    assert metric_value(Metric.SPEED_TO_LEAD_MEDIAN, period=PERIOD, user=org["alice"], now=NOW) is None
    assert metric_value(Metric.LEADS_RECEIVED, period=PERIOD, user=org["alice"], now=NOW) == Decimal(0)
    assert total_scorecard(period=PERIOD, now=NOW).leads_received == 0


# --- Cohort: received, contacted, speed to lead ------------------------------------------------


def test_speed_to_lead_odd_count_and_never_contacted_and_outside_period(org):
    alice = org["alice"]
    for minutes in (10, 50, 30):
        received_lead(alice, arrived_at=NOV, contacted_after=minutes * M)
    received_lead(alice, arrived_at=NOV)  # never contacted: received, not in the percentiles
    # Arrived one minute before the period: not in November's figures at all.
    received_lead(alice, arrived_at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC), contacted_after=500 * M)
    # Arrived exactly at the end (half-open): not counted.
    received_lead(alice, arrived_at=PERIOD.end, contacted_after=500 * M)
    c = card(alice)
    assert c.leads_received == 4
    assert c.leads_contacted == 3
    assert c.never_contacted == 1
    # Sorted [10, 30, 50]: median 30; p90 at position 0.9 * 2 = 1.8 -> 30 + 0.8 * 20 = 46.
    assert c.speed_to_lead_median == Decimal("30.0")
    assert c.speed_to_lead_p90 == Decimal("46.0")


def test_speed_to_lead_even_count_interpolates(org):
    alice = org["alice"]
    for minutes in (100, 10, 40, 20):
        received_lead(alice, arrived_at=NOV, contacted_after=minutes * M)
    # Sorted [10, 20, 40, 100]: median at 1.5 -> 30; p90 at 2.7 -> 40 + 0.7 * 60 = 82.
    assert metric_value(Metric.SPEED_TO_LEAD_MEDIAN, period=PERIOD, user=alice, now=NOW) == Decimal("30.0")
    assert metric_value(Metric.SPEED_TO_LEAD_P90, period=PERIOD, user=alice, now=NOW) == Decimal("82.0")


def test_speed_to_lead_with_one_lead_and_seconds(org):
    received_lead(org["alice"], arrived_at=NOV, contacted_after=timedelta(minutes=2, seconds=30))
    c = card(org["alice"])
    assert c.speed_to_lead_median == c.speed_to_lead_p90 == Decimal("2.5")


def test_percentile_fallback_matches_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)


def test_a_lead_reassigned_stays_received_by_the_first_rep_and_the_saver_keeps_the_credit(org):
    alice, bob = org["alice"], org["bob"]
    # Alice got it at 09:00 and never called; Maria reassigned it to Bob, who called 3 hours later and won it.
    lead = received_lead(
        alice,
        arrived_at=NOV,
        contacted_after=180 * M,
        contacted_by=bob,
        stage=Lead.Stage.WON,
        closed_at=NOV + timedelta(days=2),
        value=5000,
    )
    Lead.objects.filter(pk=lead.pk).update(owner=bob)
    assign(lead, bob, from_owner=alice, at=NOV + timedelta(hours=2), reason="neglected")
    # A teammate's call on a lead Alice still owns also counts as a save for Bob.
    received_lead(alice, arrived_at=NOV, contacted_after=60 * M, contacted_by=bob)
    cards = rep_scorecards(period=PERIOD, users=[alice, bob], now=NOW)
    assert cards[alice.pk].leads_received == 2
    assert cards[alice.pk].speed_to_lead_median == Decimal("120.0")  # (180 + 60) / 2: her leads waited that long
    assert cards[alice.pk].saved == 0
    assert cards[alice.pk].deals_won == 0
    assert cards[bob.pk].leads_received == 0
    assert cards[bob.pk].saved == 2
    assert cards[bob.pk].deals_won == 1  # wins go to the owner at close
    assert cards[bob.pk].value_won == Decimal("5000.00")


def test_leads_contacted_by_their_own_rep_are_not_saves(org):
    received_lead(org["alice"], arrived_at=NOV, contacted_after=5 * M)
    assert card(org["alice"]).saved == 0


# --- Follow-up compliance ----------------------------------------------------------------------


def _follow_up(owner, due_at, state, done_at=None):
    lead = LeadFactory(owner=owner, arrived_at=datetime(2026, 10, 1, tzinfo=UTC))  # not in November's cohort
    return FollowUpFactory(lead=lead, owner=owner, due_at=due_at, state=state, done_at=done_at)


def test_follow_up_compliance_counts_done_by_due_and_open_past_due_as_missed(org):
    alice = org["alice"]
    due = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    _follow_up(alice, due, FollowUp.State.DONE, due - timedelta(hours=1))  # on time
    _follow_up(alice, due, FollowUp.State.DONE, due)  # exactly at due: on time
    _follow_up(alice, due, FollowUp.State.DONE, due + timedelta(minutes=1))  # late: missed
    _follow_up(alice, due, FollowUp.State.OPEN)  # open, due before NOW: missed
    _follow_up(alice, NOW + timedelta(days=2), FollowUp.State.OPEN)  # not due yet: undecided
    _follow_up(alice, due, FollowUp.State.CANCELLED)  # cancelled: excluded
    _follow_up(alice, datetime(2026, 10, 20, tzinfo=UTC), FollowUp.State.DONE, datetime(2026, 10, 25, tzinfo=UTC))
    _follow_up(org["bob"], due, FollowUp.State.DONE, due + timedelta(days=1))  # Bob's: not Alice's
    c = card(alice)
    assert (c.follow_ups_on_time, c.follow_ups_missed) == (2, 2)
    assert c.follow_up_compliance == Decimal("50.0")
    assert card(org["bob"]).follow_up_compliance == Decimal("0.0")


def test_compliance_rounds_to_one_decimal(org):
    due = datetime(2026, 11, 20, tzinfo=UTC)
    for _ in range(2):
        _follow_up(org["alice"], due, FollowUp.State.DONE, due)
    _follow_up(org["alice"], due, FollowUp.State.OPEN)
    assert card(org["alice"]).follow_up_compliance == Decimal("66.7")


# --- Activities ---------------------------------------------------------------------------------


def test_activities_by_kind_are_what_the_rep_logged_in_the_period(org):
    alice = org["alice"]
    lead = LeadFactory(owner=alice)
    first = ActivityFactory(lead=lead, actor=alice, kind="call", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=alice, kind="call", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=alice, kind="email", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=alice, kind="meeting", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=alice, kind="note", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=alice, kind="call", occurred_at=NOV, corrects=first)  # a correction
    ActivityFactory(lead=lead, actor=alice, kind="call", occurred_at=datetime(2026, 10, 30, tzinfo=UTC))
    ActivityFactory(lead=lead, actor=None, kind="reminder", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=org["bob"], kind="call", occurred_at=NOV)
    c = card(alice)
    assert c.activities_by_kind == {"call": 2, "email": 1, "meeting": 1, "sms": 0, "note": 1}
    assert c.activities == 5
    assert metric_value(Metric.CALLS, period=PERIOD, user=alice, now=NOW) == Decimal(2)
    # The team counts its members' entries: Alice's 5 and Bob's call; South has none.
    assert metric_value(Metric.ACTIVITIES, period=PERIOD, team=org["north"], now=NOW) == Decimal(6)
    assert metric_value(Metric.ACTIVITIES, period=PERIOD, team=org["south"], now=NOW) == Decimal(0)
    assert metric_value(Metric.ACTIVITIES, period=PERIOD, now=NOW) == Decimal(6)


# --- Closed deals -------------------------------------------------------------------------------


def test_conversion_and_value_won_count_leads_closed_in_the_period(org):
    alice = org["alice"]
    closed = NOV + timedelta(days=3)
    LeadFactory(owner=alice, stage="won", closed_at=closed, value=Decimal("1000.00"))
    LeadFactory(owner=alice, stage="won", closed_at=closed, value=Decimal("2500.50"))
    LeadFactory(owner=alice, stage="lost", closed_at=closed, value=Decimal("9999"), lost_reason="budget")
    LeadFactory(owner=alice, stage="won", closed_at=datetime(2026, 10, 1, tzinfo=UTC), value=7)
    LeadFactory(owner=alice, stage="proposal", value=100000)  # open pipeline: not decided
    c = card(alice)
    assert (c.deals_won, c.deals_lost) == (2, 1)
    assert c.value_won == Decimal("3500.50")
    assert c.conversion_rate == Decimal("66.7")
    assert metric_value(Metric.VALUE_WON, period=PERIOD, user=alice, now=NOW) == Decimal("3500.50")


# --- Neglected ----------------------------------------------------------------------------------


def test_neglected_is_untouched_overdue_or_silent_open_leads(org):
    alice = org["alice"]
    hours = timedelta(hours=1)
    LeadFactory(owner=alice, arrived_at=NOW - 25 * hours)  # untouched past 24 h: neglected
    LeadFactory(owner=alice, arrived_at=NOW - 2 * hours)  # untouched, only 2 h: not yet
    LeadFactory(  # follow-up overdue: neglected
        owner=alice,
        stage="contacted",
        arrived_at=NOW - 48 * hours,
        first_contacted_at=NOW - 47 * hours,
        last_activity_at=NOW - 47 * hours,
        next_follow_up_at=NOW - hours,
    )
    LeadFactory(  # silent for 8 days: neglected
        owner=alice,
        stage="qualified",
        arrived_at=NOW - timedelta(days=20),
        first_contacted_at=NOW - timedelta(days=19),
        last_activity_at=NOW - timedelta(days=8),
    )
    LeadFactory(  # healthy: spoke 2 days ago, follow-up tomorrow
        owner=alice,
        stage="contacted",
        arrived_at=NOW - timedelta(days=5),
        first_contacted_at=NOW - timedelta(days=5),
        last_activity_at=NOW - timedelta(days=2),
        next_follow_up_at=NOW + timedelta(days=1),
    )
    LeadFactory(owner=alice, stage="won", closed_at=NOW, arrived_at=NOW - timedelta(days=30))  # closed: never
    LeadFactory(owner=None, team=org["north"], arrived_at=NOW - 30 * hours)  # queue: the team's, nobody's
    assert card(alice).neglected == 3
    assert metric_value(Metric.NEGLECTED, period=PERIOD, team=org["north"], now=NOW) == Decimal(4)
    assert metric_value(Metric.NEGLECTED, period=PERIOD, team=org["south"], now=NOW) == Decimal(0)


def test_neglect_thresholds_come_from_settings(org, settings):
    settings.LEADS_NEGLECT_UNTOUCHED_HOURS = 1
    LeadFactory(owner=org["alice"], arrived_at=NOW - timedelta(hours=2))
    assert card(org["alice"]).neglected == 1


# --- Team roll-up and scoping -----------------------------------------------------------------


def test_team_totals_include_sub_teams_and_the_queue_and_nothing_else(org):
    received_lead(org["alice"], arrived_at=NOV, contacted_after=10 * M)
    received_lead(org["alice"], arrived_at=NOV, contacted_after=20 * M)
    received_lead(org["bob"], arrived_at=NOV, contacted_after=30 * M)
    received_lead(org["charlie"], arrived_at=NOV, contacted_after=60 * M)
    LeadFactory(owner=None, team=org["north"], arrived_at=NOV)  # in North's queue
    east = TeamFactory(name="East")
    dave = UserFactory(username="dave")
    MembershipFactory(user=dave, team=east)
    received_lead(dave, arrived_at=NOV, contacted_after=1000 * M)

    north = total_scorecard(period=PERIOD, team=org["north"], now=NOW)
    assert (north.leads_received, north.leads_contacted) == (4, 3)
    assert north.speed_to_lead_median == Decimal("20.0")
    sales = total_scorecard(period=PERIOD, team=org["sales"], now=NOW)
    assert (sales.leads_received, sales.leads_contacted) == (5, 4)
    # [10, 20, 30, 60]: median 25; p90 at 2.7 -> 30 + 0.7 * 30 = 51.
    assert sales.speed_to_lead_median == Decimal("25.0")
    assert sales.speed_to_lead_p90 == Decimal("51.0")
    assert metric_value(Metric.LEADS_RECEIVED, period=PERIOD, team=org["south"], now=NOW) == Decimal(1)
    everyone = total_scorecard(period=PERIOD, now=NOW)
    assert everyone.leads_received == 6
    # The dashboard's combined call agrees with total_scorecard, follow-ups and activities included.
    due = datetime(2026, 11, 20, tzinfo=UTC)
    _follow_up(org["bob"], due, FollowUp.State.DONE, due)
    _follow_up(org["charlie"], due, FollowUp.State.OPEN)
    members = [org["alice"], org["bob"], org["charlie"]]
    _cards, total = team_scorecards(
        period=PERIOD, team_ids={org["sales"].pk, org["north"].pk, org["south"].pk}, users=members, now=NOW
    )
    assert total == total_scorecard(period=PERIOD, team=org["sales"], now=NOW)
    assert (total.follow_ups_on_time, total.follow_ups_missed, total.activities) == (1, 1, 4)
    assert metric_value(Metric.LEADS_RECEIVED, period=PERIOD, now=NOW) == Decimal(6)


def test_rep_figures_only_count_the_reps_own_leads(org):
    received_lead(org["alice"], arrived_at=NOV, contacted_after=10 * M)
    received_lead(org["bob"], arrived_at=NOV, contacted_after=99 * M)
    received_lead(org["bob"], arrived_at=NOV)
    values = metric_values_by_user(Metric.LEADS_RECEIVED, period=PERIOD, users=[org["alice"], org["bob"]], now=NOW)
    assert values == {org["alice"].pk: Decimal(1), org["bob"].pk: Decimal(2)}
    assert card(org["alice"]).speed_to_lead_median == Decimal("10.0")
    with pytest.raises(ValueError):
        metric_value(Metric.LEADS_RECEIVED, period=PERIOD, user=org["alice"], team=org["north"])


# --- Query counts -------------------------------------------------------------------------------


def _many_reps(n, team):
    reps = []
    for i in range(n):
        rep = UserFactory(username=f"rep{i}")
        MembershipFactory(user=rep, team=team)
        received_lead(rep, arrived_at=NOV, contacted_after=(i + 1) * M)
        old = LeadFactory(owner=rep, arrived_at=datetime(2026, 10, 1, tzinfo=UTC))
        ActivityFactory(lead=old, actor=rep, kind=Activity.Kind.EMAIL, occurred_at=NOV)
        reps.append(rep)
    return reps


@pytest.mark.parametrize("n", [5, 50])
@pytest.mark.parametrize("rolled_up", [False, True])
def test_scorecards_run_a_constant_number_of_queries(org, django_assert_num_queries, n, rolled_up):
    reps = _many_reps(n, org["north"])
    if rolled_up:
        from leads.rollup import rollup_build

        rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    # SQLite has no percentile_cont: one more query fetches the ordered minutes (documented fallback);
    # it never reads the rollup (one query fewer each).
    fallback = 0 if connection.vendor == "postgresql" else 1
    pg = connection.vendor == "postgresql"
    # Cold (nothing cached): the rollup version (1), what the rollup covers with, rolled up, its
    # ranked minutes (1 + 1); then the raw remainder: cohort, follow-ups, activities, closed
    # deals, saved (5) and neglected (1). Warm: the closed days come from the cache
    # (leads.metrics.closedcache), only the remainder and the neglected count are read.
    cache.clear()
    with django_assert_num_queries((2 + rolled_up if pg else 0) + 6 + fallback):
        cards = rep_scorecards(period=PERIOD, users=reps, now=NOW)
    assert all(cards[r.pk].leads_received == 1 and cards[r.pk].activities == 2 for r in reps)
    with django_assert_num_queries(6 + fallback):
        assert rep_scorecards(period=PERIOD, users=reps, now=NOW) == cards
    # One query per figure for many reps (and, cold, the rollup's coverage and ranks).
    cache.clear()
    with django_assert_num_queries((2 + rolled_up if pg else 0) + 1 + fallback):
        metric_values_by_user(Metric.SPEED_TO_LEAD_P90, period=PERIOD, users=reps, now=NOW)
    with django_assert_num_queries(1 + fallback):
        metric_values_by_user(Metric.SPEED_TO_LEAD_P90, period=PERIOD, users=reps, now=NOW)
    # The team total: its team tree, the team rollup's coverage, one pass over its leads for the
    # lead figures (rolled up: the cached ranks plus the remainder's minutes, closed deals and
    # neglected), its members, and their follow-ups, activities and saves (rolled up: through
    # their cards).
    cache.clear()
    with django_assert_num_queries((6 + 2 + fallback) if not rolled_up else 12):
        total = total_scorecard(period=PERIOD, team=org["north"], now=NOW)
    assert total.leads_received == n
    # The dashboard's combined call gives the same total in fewer queries; warm, fewer still.
    cache.clear()
    with django_assert_num_queries((6 + 2 * 2 + 2 * fallback) if not rolled_up else 13):
        cards, same_total = team_scorecards(
            period=PERIOD, team_ids={org["north"].pk}, users=[*reps, org["alice"], org["bob"]], now=NOW
        )
    with django_assert_num_queries(7 + 2 * fallback if not rolled_up else 8):
        assert team_scorecards(
            period=PERIOD, team_ids={org["north"].pk}, users=[*reps, org["alice"], org["bob"]], now=NOW
        ) == (cards, same_total)
    assert same_total == total
    assert len(cards) == n + 2


def test_team_and_everyone_totals_of_closed_deals_count_only_leads_closed_in_the_period(org):
    """Won, lost, value won and conversion of a team total and of everyone, against leads closed
    before, after and on the edges of the period (the rows are tested the same way per rep)."""
    in_period = NOV + timedelta(days=3)
    north, south = org["north"], org["south"]
    LeadFactory(owner=org["alice"], team=north, stage="won", closed_at=in_period, value=Decimal("1000.00"))
    LeadFactory(owner=org["bob"], team=north, stage="won", closed_at=PERIOD.start, value=Decimal("250.50"))
    LeadFactory(owner=org["bob"], team=north, stage="lost", closed_at=in_period, value=9999, lost_reason="budget")
    # Outside the period: the day before, the first instant after, and next year.
    LeadFactory(owner=org["alice"], team=north, stage="won", closed_at=PERIOD.start - timedelta(seconds=1), value=7)
    LeadFactory(owner=org["alice"], team=north, stage="won", closed_at=PERIOD.end, value=11)
    LeadFactory(owner=org["bob"], team=north, stage="lost", closed_at=PERIOD.end + timedelta(days=365), value=13)
    LeadFactory(owner=org["alice"], team=north, stage="proposal", value=100000)  # open: not decided
    LeadFactory(owner=org["charlie"], team=south, stage="lost", closed_at=in_period, value=5, lost_reason="x")
    LeadFactory(owner=org["charlie"], team=south, stage="won", closed_at=datetime(2026, 10, 31, tzinfo=UTC), value=3)

    def closed(card):
        return (card.deals_won, card.deals_lost, card.value_won, card.conversion_rate)

    north_total = total_scorecard(period=PERIOD, team=north, now=NOW)
    assert closed(north_total) == (2, 1, Decimal("1250.50"), Decimal("66.7"))
    sales_total = total_scorecard(period=PERIOD, team=org["sales"], now=NOW)
    assert closed(sales_total) == (2, 2, Decimal("1250.50"), Decimal("50.0"))
    assert closed(total_scorecard(period=PERIOD, now=NOW)) == (2, 2, Decimal("1250.50"), Decimal("50.0"))
    assert closed(total_scorecard(period=PERIOD, team=south, now=NOW)) == (0, 1, Decimal("0.00"), Decimal("0.0"))
    # The dashboard's combined call gives the same totals, and they are the sums of the rows here.
    members = [org["alice"], org["bob"], org["charlie"]]
    team_ids = {org["sales"].pk, north.pk, south.pk}
    cards, total = team_scorecards(period=PERIOD, team_ids=team_ids, users=members, now=NOW)
    assert closed(total) == closed(sales_total)
    assert sum(c.deals_won for c in cards.values()) == total.deals_won
    assert sum(c.deals_lost for c in cards.values()) == total.deals_lost
    assert sum(c.value_won for c in cards.values()) == total.value_won
    for metric, expected in [
        (Metric.DEALS_WON, Decimal(2)),
        (Metric.VALUE_WON, Decimal("1250.50")),
        (Metric.CONVERSION_RATE, Decimal("50.0")),
    ]:
        assert metric_value(metric, period=PERIOD, team=org["sales"], now=NOW) == expected
        assert metric_value(metric, period=PERIOD, now=NOW) == expected
    # A period with nothing closed: zero deals and no conversion, for the team and everyone.
    empty = Period.between(date(2027, 3, 1), date(2027, 3, 31), "UTC")
    assert closed(total_scorecard(period=empty, team=north, now=NOW)) == (0, 0, Decimal("0.00"), None)
    assert closed(total_scorecard(period=empty, now=NOW)) == (0, 0, Decimal("0.00"), None)


def test_period_arithmetic_at_the_calendars_end_is_a_value_error_not_an_overflow():
    assert Period.month_of(date(2026, 12, 15), tz="UTC").end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Period.month_of(date(2026, 1, 31), tz="UTC").end == datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        Period.month_of(date(9999, 12, 31), tz="UTC")
    with pytest.raises(ValueError):
        Period.between(date(9999, 12, 1), date(9999, 12, 31), "UTC")
