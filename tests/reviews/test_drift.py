"""Early flags of drift: the rules, keyed and idempotent raising, transitions per role, the digest."""

import datetime as dt
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accountability.expectations.models import Kpi
from accountability.notifications.models import Notification
from goals.models import GoalSnapshot, Pacing
from leads.metrics import Scorecard
from leads.models import RepDay
from reviews import drift
from reviews.models import DriftFlag, DriftSettings
from tests.factories import LeadFactory
from tests.goals.factories import GoalFactory

TODAY = dt.date(2026, 11, 25)  # a Wednesday
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _days(user, start, end, **figures):
    """RepDay rows (UTC days) for every day start..end-1, with these figures."""
    day = start
    while day < end:
        RepDay.objects.update_or_create(
            user=user,
            day=day,
            defaults={
                "time_zone": "UTC",
                "starts_at": datetime.combine(day, dt.time.min, tzinfo=UTC),
                "ends_at": datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=UTC),
                "computed_at": NOW,
                **figures,
            },
        )
        day += dt.timedelta(days=1)


@pytest.fixture
def quiet_org(org):
    """Five weeks of ordinary days for alice and bob: a few calls a day, nothing alarming."""
    for rep in (org["alice"], org["bob"]):
        _days(rep, TODAY - dt.timedelta(days=42), TODAY, calls=3, follow_ups_kept=2, follow_ups_due=2)
    return org


@pytest.fixture(autouse=True)
def _everyone_recently_recognised(request):
    """The rule tests below are about one rule each: keep "no recognition in 30 days" quiet by
    giving every persona a recent kudos (that rule has its own test)."""
    if "org" in request.fixturenames:
        from tests.recognition.factories import make_kudos

        org = request.getfixturevalue("org")
        make_kudos(org["maria"], [org["alice"], org["bob"], org["charlie"]])


def _raise():
    return drift.drift_flags_compute(today=TODAY, now=NOW)


def _flags(user):
    return list(DriftFlag.objects.filter(rep=user).values_list("rule", flat=True))


def test_an_ordinary_team_raises_nothing(quiet_org):
    assert _raise() == 0


def test_no_activity_for_two_business_days_with_open_leads(quiet_org):
    alice = quiet_org["alice"]
    LeadFactory(owner=alice)
    # Monday and Tuesday without an entry (the weekend does not count).
    _days(alice, TODAY - dt.timedelta(days=2), TODAY, calls=0)
    assert _raise() == 1
    flag = DriftFlag.objects.get(rep=alice)
    assert flag.rule == DriftFlag.Rule.NO_ACTIVITY and flag.week == dt.date(2026, 11, 23)
    assert "1 open leads" in flag.reason and f"owner={alice.pk}" in flag.evidence_url
    # Idempotent: the same night again raises nothing.
    assert _raise() == 0
    # Without open leads there is nothing to chase: no flag for bob.
    _days(quiet_org["bob"], TODAY - dt.timedelta(days=2), TODAY, calls=0)
    assert _raise() == 0


def test_three_escalations_in_a_week(quiet_org):
    _days(quiet_org["bob"], TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=1), escalations=2)
    _raise()
    assert _flags(quiet_org["bob"]) == [DriftFlag.Rule.ESCALATIONS]
    assert "4 of their leads" in DriftFlag.objects.get().reason


def test_speed_to_lead_p90_doubled_against_own_previous_weeks(quiet_org):
    alice = quiet_org["alice"]
    last_monday = dt.date(2026, 11, 16)
    _days(
        alice, last_monday - dt.timedelta(days=28), last_monday, received=1, contacted=1, first_contact_minutes=[10.0]
    )
    _days(alice, last_monday, last_monday + dt.timedelta(days=7), received=1, contacted=1, first_contact_minutes=[25.0])
    _raise()
    assert _flags(alice) == [DriftFlag.Rule.SPEED_DOUBLED]
    assert "25.0 minutes, against 10.0" in DriftFlag.objects.get().reason


def test_follow_up_compliance_under_target_two_weeks(quiet_org):
    bob = quiet_org["bob"]
    _days(bob, dt.date(2026, 11, 9), dt.date(2026, 11, 23), follow_ups_kept=1, follow_ups_missed=2)
    _raise()
    assert _flags(bob) == [DriftFlag.Rule.FOLLOW_UP_LOW]
    # The admin's threshold decides.
    DriftFlag.objects.all().delete()
    DriftSettings.objects.create(pk=1, follow_up_target=Decimal("30"))
    assert _raise() == 0


def test_goal_behind_for_two_snapshots(quiet_org):
    alice = quiet_org["alice"]
    goal = GoalFactory(owner=alice, title="Demos")
    for days_ago in (1, 2):
        GoalSnapshot.objects.create(goal=goal, date=TODAY - dt.timedelta(days=days_ago), pacing=Pacing.BEHIND)
    _raise()
    assert _flags(alice) == [DriftFlag.Rule.GOALS_BEHIND]
    assert reverse("goals:goal-detail", args=[goal.pk]) == DriftFlag.objects.get().evidence_url


def test_kpi_below_target_and_falling_for_three_weeks(org):
    kpi = Kpi(metric="calls", target=Decimal("50"), direction=Kpi.Direction.AT_LEAST, period=Kpi.Cadence.WEEK)
    weeks = []
    for calls in (40, 30, 20, 10, 99):  # the last bucket is the running week: not judged
        card = Scorecard()
        card.activities_by_kind["call"] = calls
        weeks.append(card)
    cfg = DriftSettings()
    alice = org["alice"]
    found = drift.rule_kpi_falling([alice], cfg, TODAY, {alice.pk: weeks}, {alice.pk: [kpi]})
    assert [f.rule for f in found] == [DriftFlag.Rule.KPI_FALLING]
    assert "30, 20, 10" in found[0].reason
    weeks[2].activities_by_kind["call"] = 35  # not falling every week
    assert drift.rule_kpi_falling([alice], cfg, TODAY, {alice.pk: weeks}, {alice.pk: [kpi]}) == []


def test_no_one_on_one_in_twice_the_cadence_is_flagged(org):
    from reviews.models import Meeting, OneOnOneSeries

    cfg = DriftSettings()  # factor 2: a weekly series may go 14 days without a 1:1
    alice, bob = org["alice"], org["bob"]
    assert drift.rule_no_one_on_one([alice, bob], cfg, TODAY) == []  # no series: nothing to judge
    for rep, held_days_ago in ((alice, 20), (bob, 6)):
        series = OneOnOneSeries.objects.create(
            manager=org["maria"], rep=rep, team=org["north"], cadence="weekly", weekday=2, time=dt.time(10)
        )
        at = NOW - dt.timedelta(days=held_days_ago)
        Meeting.objects.create(series=series, scheduled_at=at, since=at - dt.timedelta(days=7), state="held")
    found = drift.rule_no_one_on_one([alice, bob], cfg, TODAY)
    assert [(f.rep_id, f.rule) for f in found] == [(alice.pk, DriftFlag.Rule.NO_ONE_ON_ONE)]
    assert "20 days" in found[0].reason and found[0].evidence_url == reverse("reviews:one-on-one-list")


def test_no_recognition_in_30_days_is_a_prompt_for_the_manager_only(org):
    from tests.recognition.factories import make_kudos

    cfg = DriftSettings()
    alice, bob, charlie = org["alice"], org["bob"], org["charlie"]
    from recognition.models import KudosRecipient

    KudosRecipient.objects.all().delete()  # forget the module's "everyone recently recognised"
    make_kudos(bob, [alice])  # alice was recognised just now
    old = make_kudos(alice, [charlie])
    old.recipient_rows.update(created_at=NOW - dt.timedelta(days=45))
    found = drift.rule_no_recognition([alice, bob, charlie], cfg, dt.date.today())
    assert {f.rep_id for f in found} == {bob.pk, charlie.pk}
    assert all(f.manager_only and f.rule == DriftFlag.Rule.NO_RECOGNITION for f in found)


# --- Not raised again ---------------------------------------------------------------------------


def _escalate(org):
    _days(org["bob"], TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=1), escalations=2)


def test_not_raised_again_while_open_nor_a_week_after_dismissal(quiet_org):
    _escalate(quiet_org)
    _raise()
    flag = DriftFlag.objects.get()
    # Next week, still open: nothing new.
    assert drift.drift_flags_compute(today=TODAY + dt.timedelta(days=7), now=NOW + dt.timedelta(days=7)) == 0
    drift.flag_dismiss(actor=quiet_org["maria"], flag=flag, reason="Holiday cover, not his leads")
    DriftFlag.objects.filter(pk=flag.pk).update(closed_at=NOW)  # dismissed on the test's day
    assert drift.drift_flags_compute(today=TODAY, now=NOW + dt.timedelta(days=3)) == 0
    # A week after the dismissal it may be raised again (a new week, a new flag).
    later = TODAY + dt.timedelta(days=8)
    _days(quiet_org["bob"], later - dt.timedelta(days=3), later - dt.timedelta(days=1), escalations=2)
    assert drift.drift_flags_compute(today=later, now=NOW + dt.timedelta(days=8)) == 1


# --- Transitions, per role ----------------------------------------------------------------------


@pytest.fixture
def flag(org):
    return DriftFlag.objects.create(
        rep=org["alice"], rule=DriftFlag.Rule.ESCALATIONS, week=TODAY, reason="3 escalations", raised_at=NOW
    )


def test_manager_discusses_then_resolves(org, flag):
    flag = drift.flag_discuss(actor=org["maria"], flag=flag)
    assert flag.state == DriftFlag.State.DISCUSSED and flag.discussed_by == org["maria"]
    with pytest.raises(ValidationError):  # a double click acts once
        drift.flag_discuss(actor=org["maria"], flag=flag)
    flag = drift.flag_resolve(actor=org["helen"], flag=flag)
    assert flag.state == DriftFlag.State.RESOLVED and flag.closed_by == org["helen"]
    with pytest.raises(ValidationError):
        drift.flag_dismiss(actor=org["maria"], flag=flag, reason="late")


@pytest.mark.parametrize("who", ["alice", "bob", "sam", "charlie"])
def test_only_the_reps_managers_and_admins_act_on_a_flag(org, flag, who):
    with pytest.raises(PermissionDenied):
        drift.flag_discuss(actor=org[who], flag=flag)
    assert drift.flag_discuss(actor=org["admin"], flag=flag).state == DriftFlag.State.DISCUSSED


def test_dismissal_needs_a_reason(org, flag):
    with pytest.raises(ValidationError):
        drift.flag_dismiss(actor=org["maria"], flag=flag, reason="  ")
    flag.refresh_from_db()
    assert flag.state == DriftFlag.State.OPEN


@pytest.mark.parametrize(
    ("who", "status"), [("maria", 302), ("helen", 302), ("admin", 302), ("alice", 403), ("bob", 404), ("sam", 404)]
)
def test_flag_transition_view_scoping(org, flag, login, who, status):
    url = reverse("reviews:flag-transition", args=[flag.pk, "discuss"])
    assert login(org[who]).post(url).status_code == status
    assert login(org[who]).get(url).status_code == 405


def test_dismiss_view_gives_the_error_back(org, flag, login):
    response = login(org["maria"]).post(
        reverse("reviews:flag-transition", args=[flag.pk, "dismiss"]), {"reason": ""}, follow=True
    )
    assert b"Say why the flag is dismissed" in response.content
    flag.refresh_from_db()
    assert flag.state == DriftFlag.State.OPEN


def test_flags_show_on_the_dashboard_and_the_rep_page(org, flag, login):
    response = login(org["maria"]).get(reverse("reviews:dashboard"))
    assert b'data-testid="flag-badge"' in response.content
    page = login(org["alice"]).get(reverse("reviews:rep-page", args=[org["alice"].pk]))
    assert b"3 escalations" in page.content and b"Mark discussed" not in page.content
    # A manager-only prompt is not shown to the rep.
    DriftFlag.objects.filter(pk=flag.pk).update(manager_only=True)
    page = login(org["alice"]).get(reverse("reviews:rep-page", args=[org["alice"].pk]))
    assert b"3 escalations" not in page.content
    assert b"3 escalations" in login(org["maria"]).get(reverse("reviews:rep-page", args=[org["alice"].pk])).content


# --- The weekly digest ---------------------------------------------------------------------------


def test_one_weekly_digest_per_manager_with_every_new_flag(org, flag, settings):
    from django.utils import timezone

    DriftFlag.objects.filter(pk=flag.pk).update(raised_at=timezone.now())
    DriftFlag.objects.create(
        rep=org["bob"], rule=DriftFlag.Rule.NO_ACTIVITY, week=TODAY, reason="quiet", raised_at=timezone.now()
    )
    assert drift.drift_digest_send(manager=org["maria"]) is True
    assert drift.drift_digest_send(manager=org["maria"]) is False  # once per week
    notice = Notification.objects.get(recipient=org["maria"])
    assert notice.title == "2 new early flags in your teams" and "Alice" in notice.body
    assert drift.drift_digest_send(manager=org["helen"]) is True  # the head of sales gets theirs
    assert drift.drift_digest_send(manager=org["sam"]) is False  # nothing new in South


def test_a_flag_discussed_in_a_1on1_links_the_rep_meeting(org, flag):
    from reviews.models import Meeting, OneOnOneSeries

    def meeting_of(rep):
        series = OneOnOneSeries.objects.create(
            manager=org["maria"], rep=rep, team=org["north"], weekday=1, time=dt.time(10)
        )
        return Meeting.objects.create(series=series, scheduled_at=NOW, since=NOW - dt.timedelta(days=14))

    meeting, bobs = meeting_of(org["alice"]), meeting_of(org["bob"])
    with pytest.raises(ValidationError):
        drift.flag_discuss(actor=org["maria"], flag=flag, one_on_one_id=bobs.pk)
    with pytest.raises(PermissionDenied):
        drift.flag_discuss(actor=org["alice"], flag=flag, one_on_one_id=meeting.pk)
    flag = drift.flag_discuss(actor=org["maria"], flag=flag, one_on_one_id=meeting.pk)
    assert flag.one_on_one == meeting and list(meeting.drift_flags.all()) == [flag]
    meeting.delete()
    flag.refresh_from_db()
    assert flag.one_on_one is None and flag.state == DriftFlag.State.DISCUSSED
