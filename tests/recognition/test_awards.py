"""Awards: computed from a figure or chosen by a manager, one winner per period; team rewards."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.notifications.models import Notification
from recognition import awards
from recognition.models import Award, AwardWinner
from tests.factories import LeadFactory
from tests.recognition.factories import make_kudos

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def test_period_bounds_monthly_and_quarterly():
    monthly = Award(period="monthly")
    quarterly = Award(period="quarterly")
    assert awards.period_bounds(monthly, dt.date(2026, 2, 14)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert awards.period_bounds(quarterly, dt.date(2026, 11, 5)) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert awards.previous_period(monthly, dt.date(2026, 1, 3)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


def test_lead_saver_of_the_month_is_computed_once_and_the_winner_told(org):
    alice, bob, charlie = org["alice"], org["bob"], org["charlie"]
    award = Award.objects.create(name="Lead saver", criteria="Most leads saved", metric=awards.LEADS_SAVED)
    october = dt.datetime(2026, 10, 10, 12, tzinfo=TZ)
    for saver, n in ((bob, 2), (charlie, 1)):
        for _ in range(n):
            LeadFactory(owner=saver, received_by=alice, first_contacted_by=saver, first_contacted_at=october)
    winner = awards.award_compute(award=award, period_start=dt.date(2026, 10, 1))
    assert (winner.user, winner.value, winner.period_end) == (bob, 2, dt.date(2026, 10, 31))
    assert awards.award_compute(award=award, period_start=dt.date(2026, 10, 15)) is None  # already decided
    assert AwardWinner.objects.count() == 1
    assert Notification.objects.filter(recipient=bob, kind="award_won").count() == 1
    with pytest.raises(ValidationError, match="not ended"):
        awards.award_compute(award=award, period_start=timezone.localdate())


def test_a_team_award_goes_to_a_whole_team(org):
    award = Award.objects.create(
        name="Team of the month", criteria="Most kudos", metric=awards.KUDOS_RECEIVED, winner_kind="team"
    )
    when = dt.datetime(2026, 10, 5, tzinfo=TZ)
    make_kudos(org["alice"], [org["charlie"]], created_at=when)
    make_kudos(org["bob"], [org["alice"]], created_at=when)
    make_kudos(org["charlie"], [org["bob"]], created_at=when)
    winner = awards.award_compute(award=award, period_start=dt.date(2026, 10, 1))
    assert winner.team == org["north"] and winner.value == 2
    assert Notification.objects.filter(kind="award_won").count() == 2  # alice and bob


def test_a_manual_award_is_chosen_by_the_teams_manager_with_a_reason(org):
    award = Award.objects.create(name="Coach's pick", criteria="Chosen by Maria", kind="manual", team=org["north"])
    with pytest.raises(PermissionDenied):
        awards.award_choose(actor=org["sam"], award=award, period_start=dt.date(2026, 10, 1), user=org["bob"], note="x")
    with pytest.raises(ValidationError, match="Say why"):
        awards.award_choose(actor=org["maria"], award=award, period_start=dt.date(2026, 10, 1), user=org["bob"])
    with pytest.raises(ValidationError, match="this award is for"):
        awards.award_choose(
            actor=org["maria"], award=award, period_start=dt.date(2026, 10, 1), user=org["charlie"], note="x"
        )
    awards.award_choose(
        actor=org["maria"], award=award, period_start=dt.date(2026, 10, 9), user=org["bob"], note="Mentor"
    )
    with pytest.raises(ValidationError, match="already has a winner"):
        awards.award_choose(
            actor=org["maria"], award=award, period_start=dt.date(2026, 10, 1), user=org["alice"], note="x"
        )


def test_team_leaderboard_shows_only_the_allowed_metrics(org):
    from leads.metrics import Period

    make_kudos(org["alice"], [org["bob"]])
    period = Period.last_days(30)
    board = awards.leaderboard(
        viewer=org["maria"], mode="team", allowed=["kudos_received", "not_a_metric"], team_ids={org["north"].pk},
        period=period, previous=period,
    )  # fmt: skip
    assert board["metrics"] == [("kudos_received", "Kudos received")]
    assert [(r.user.username, r.figures["kudos_received"]) for r in board["rows"]] == [("bob", 1), ("alice", 0)]
    assert awards.leaderboard(
        viewer=org["bob"], mode="off", allowed=["kudos_received"], team_ids=set(), period=period, previous=period
    ) == {"mode": "off"}
