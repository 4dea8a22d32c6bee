"""Awards (criteria, periods, winners) and the leaderboard the admin controls.

A metric award's winner is computed from leads.metrics (the one module for lead figures) or
from kudos received, for a whole period that has ended; a manual award is chosen by a manager.
One winner per award and period (a unique constraint), so computing twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accountability.models import Membership, Team, User
from accountability.notifications.services import notification_create
from accountability.scoping import descendant_team_ids, managed_team_ids
from accountability.timezones import site_time_zone
from leads.metrics import METRIC_DIRECTION, Metric, Period, rep_scorecards
from recognition import notices
from recognition.models import Award, AwardWinner, KudosRecipient, LeaderboardMode

KUDOS_RECEIVED = "kudos_received"
LEADS_SAVED = "leads_saved"
AWARDS_WON = "awards_won"

# What an award can be computed from: the lead figures, saved leads, and kudos received.
AWARD_METRICS: dict[str, str] = {
    LEADS_SAVED: "Leads saved",
    KUDOS_RECEIVED: "Kudos received",
    **{m.value: m.label for m in Metric if m != Metric.NEGLECTED},
}
# What a team-wide leaderboard may show (each one only when the admin allows it).
LEADERBOARD_METRICS: dict[str, str] = {KUDOS_RECEIVED: "Kudos received", AWARDS_WON: "Awards won", **AWARD_METRICS}


def period_bounds(award: Award, day: dt.date) -> tuple[dt.date, dt.date]:
    """The award's period containing `day`: (first day, last day)."""
    if award.period == Award.Period.QUARTERLY:
        first_month = (day.month - 1) // 3 * 3 + 1
        start = day.replace(month=first_month, day=1)
        months = 3
    else:
        start = day.replace(day=1)
        months = 1
    month, year = start.month + months, start.year
    if month > 12:
        month, year = month - 12, year + 1
    return start, dt.date(year, month, 1) - dt.timedelta(days=1)


def previous_period(award: Award, today: dt.date) -> tuple[dt.date, dt.date]:
    start, _ = period_bounds(award, today)
    return period_bounds(award, start - dt.timedelta(days=1))


def _candidates(award: Award) -> list[User]:
    people = User.objects.filter(is_active=True, role=User.Role.REP)
    if award.team_id:
        people = people.filter(memberships__team_id__in=descendant_team_ids([award.team_id])).distinct()
    return list(people)


def kudos_counts(user_ids, period: Period) -> dict[int, int]:
    rows = (
        KudosRecipient.objects.filter(
            user_id__in=user_ids, kudos__hidden=False, created_at__gte=period.start, created_at__lt=period.end
        )
        .values("user_id")
        .annotate(n=Count("id"))
    )
    return {r["user_id"]: r["n"] for r in rows}


def figures(metric: str, users: list[User], period: Period) -> dict[int, Decimal | None]:
    """One figure per person for a metric code of AWARD_METRICS, in a constant number of queries."""
    ids = [u.pk for u in users]
    if metric == KUDOS_RECEIVED:
        counts = kudos_counts(ids, period)
        return {pk: Decimal(counts.get(pk, 0)) for pk in ids}
    if metric == AWARDS_WON:
        rows = (
            AwardWinner.objects.filter(user_id__in=ids, period_start__gte=period.start.date())
            .values("user_id")
            .annotate(n=Count("id"))
        )
        counts = {r["user_id"]: r["n"] for r in rows}
        return {pk: Decimal(counts.get(pk, 0)) for pk in ids}
    cards = rep_scorecards(period=period, users=ids)
    if metric == LEADS_SAVED:
        return {pk: Decimal(card.saved) for pk, card in cards.items()}
    return {pk: card.value(metric) for pk, card in cards.items()}


def better_first(metric: str) -> bool:
    """True when a larger figure is better (speed to lead: smaller is better)."""
    return metric not in Metric.values or METRIC_DIRECTION[Metric(metric)] == "up"


def _rank(values: dict, metric: str) -> list[tuple[int, Decimal]]:
    rows = [(pk, v) for pk, v in values.items() if v is not None]
    up = better_first(metric)
    # A tie goes to the lower id (the longest-serving person, the oldest team): the same answer every run.
    return sorted(rows, key=lambda r: ((-r[1] if up else r[1]), r[0]))


def _notify_winner(winner: AwardWinner) -> None:
    people = [winner.user] if winner.user_id else list(winner.team.members.filter(is_active=True))
    for person in people:
        notification_create(
            recipient=person,
            kind=notices.AWARD_WON,
            title=f"{winner.award.name}: {winner.winner_label} ({winner.period_start:%B %Y})",
            key=f"award:{winner.award_id}:{winner.period_start.isoformat()}",
            url=reverse("recognition:award-list"),
        )


def award_compute(*, award: Award, period_start: dt.date) -> AwardWinner | None:
    """Decide a metric award for the period starting `period_start` (which must have ended).
    None when there is no figure to rank, or the winner is already recorded."""
    if award.kind != Award.Kind.METRIC:
        raise ValidationError("A manual award is chosen by a manager.")
    start, end = period_bounds(award, period_start)
    if end >= timezone.localdate(timezone=site_time_zone()):
        raise ValidationError("The period has not ended yet.")
    period = Period.between(start, end, site_time_zone())
    if award.winner_kind == Award.Winner.TEAM:
        teams = list(Team.objects.filter(parent_id=award.team_id) if award.team_id else Team.objects.all())
        values: dict[int, Decimal | None] = {}
        for team in teams:
            members = list(User.objects.filter(memberships__team=team, is_active=True))
            per = figures(award.metric, members, period)
            present = [v for v in per.values() if v is not None]
            values[team.pk] = sum(present) if present else None
        ranked = _rank(values, award.metric)
        if not ranked or ranked[0][1] == 0:
            return None
        winner_fields = {"team_id": ranked[0][0]}
    else:
        ranked = _rank(figures(award.metric, _candidates(award), period), award.metric)
        if not ranked or (better_first(award.metric) and ranked[0][1] == 0):
            return None
        winner_fields = {"user_id": ranked[0][0]}
    try:
        with transaction.atomic():
            winner = AwardWinner.objects.create(
                award=award, period_start=start, period_end=end, value=ranked[0][1], **winner_fields
            )
            _notify_winner(winner)
    except IntegrityError:
        return None
    return winner


def winner_choices(award: Award) -> list[tuple[str, str]]:
    """("user:7", "Bob Schmidt") or ("team:2", "North") for the manual award form."""
    if award.winner_kind == Award.Winner.TEAM:
        teams = Team.objects.filter(parent_id=award.team_id) if award.team_id else Team.objects.all()
        return [(f"team:{t.pk}", str(t)) for t in teams]
    return [(f"user:{u.pk}", str(u)) for u in _candidates(award)]


def can_choose(actor: User, award: Award) -> bool:
    if actor.is_admin:
        return True
    return bool(award.team_id and award.team_id in (managed_team_ids(actor) if actor.is_manager else set()))


@transaction.atomic
def award_choose(
    *, actor: User, award: Award, period_start: dt.date, user: User | None = None, team: Team | None = None, note=""
) -> AwardWinner:
    """A manager (of the award's team) or an admin names the winner of a manual award."""
    if not can_choose(actor, award):
        raise PermissionDenied
    if award.kind != Award.Kind.MANUAL:
        raise ValidationError("This award is computed from its metric.")
    if (user is None) == (team is None):
        raise ValidationError({"winner": "Choose one winner."})
    if award.winner_kind == Award.Winner.TEAM and team is None:
        raise ValidationError({"winner": "This award goes to a whole team."})
    if award.winner_kind == Award.Winner.PERSON and user is None:
        raise ValidationError({"winner": "This award goes to a person."})
    if user is not None and user.pk not in {u.pk for u in _candidates(award)}:
        raise ValidationError({"winner": "Choose someone this award is for."})
    if not (note or "").strip():
        raise ValidationError({"note": "Say why: the criteria are public, so is the reason."})
    start, end = period_bounds(award, period_start)
    try:
        with transaction.atomic():
            winner = AwardWinner.objects.create(
                award=award, period_start=start, period_end=end, user=user, team=team, note=note.strip()[:300],
                chosen_by=actor,
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError("This period already has a winner.") from None
    _notify_winner(winner)
    return winner


def awards_compute_due(*, today: dt.date | None = None) -> int:
    """Compute every active metric award for its period that just ended (idempotent)."""
    today = today or timezone.localdate(timezone=site_time_zone())
    done = 0
    for award in Award.objects.filter(active=True, kind=Award.Kind.METRIC):
        start, _end = previous_period(award, today)
        done += award_compute(award=award, period_start=start) is not None
    return done


def awards_visible_to(user: User):
    """Organisation awards, and team awards of the user's teams (all for an admin)."""
    qs = Award.objects.select_related("team")
    if user.is_admin:
        return qs
    teams = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    teams |= managed_team_ids(user) if user.is_manager else set()
    return qs.filter(Q(team__isnull=True) | Q(team_id__in=teams))


# --- Leaderboards -----------------------------------------------------------------------------


@dataclass
class BoardRow:
    user: User
    figures: dict[str, Decimal | None]


def leaderboard(
    *, viewer: User, mode: str, allowed: list[str], team_ids: set[int], period: Period, previous: Period
) -> dict:
    """What the viewer may see of the leaderboard. Off: nothing. Personal: their own position
    and trend among their teams' reps, for kudos received. Team-wide: every rep of the team
    with only the metrics the admin allowed."""
    if mode == LeaderboardMode.OFF:
        return {"mode": mode}
    people = list(User.objects.filter(is_active=True, role=User.Role.REP, memberships__team_id__in=team_ids).distinct())
    if mode == LeaderboardMode.PERSONAL:
        now = kudos_counts([p.pk for p in people], period)
        before = kudos_counts([p.pk for p in people], previous)
        ranked = sorted(people, key=lambda p: (-now.get(p.pk, 0), p.pk))
        position = next((i + 1 for i, p in enumerate(ranked) if p.pk == viewer.pk), None)
        return {
            "mode": mode,
            "position": position,
            "out_of": len(people),
            "kudos": now.get(viewer.pk, 0),
            "previous": before.get(viewer.pk, 0),
        }
    metrics = [m for m in allowed if m in LEADERBOARD_METRICS]
    columns = {m: figures(m, people, period) for m in metrics}
    rows = [BoardRow(user=p, figures={m: columns[m].get(p.pk) for m in metrics}) for p in people]
    if metrics:
        first = metrics[0]
        up = better_first(first)
        rows.sort(key=lambda r: (r.figures[first] is None, -(r.figures[first] or 0) if up else r.figures[first] or 0))
    return {"mode": mode, "metrics": [(m, LEADERBOARD_METRICS[m]) for m in metrics], "rows": rows}
