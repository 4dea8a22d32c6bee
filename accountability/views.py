import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_celery_beat.models import PeriodicTask
from kombu import Connection

from accountability import ratelimit, services
from accountability.expectations.views import first_view_redirect
from accountability.forms import PeopleFilterForm, PersonForm, TeamForm, TimeAwayForm, add_service_errors
from accountability.models import Heartbeat, Membership, Team, User
from accountability.scoping import (
    admin_required,
    get_visible_or_404,
    managed_team_ids,
    member_team_ids,
    role_required,
    team_scope,
)
from accountability.selectors import people_for_admin, people_managed_by, person_for_admin, reports_to
from accountability.services import team_save

logger = logging.getLogger(__name__)


def _team_queryset():
    return Team.objects.select_related("manager", "parent").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("user__first_name"))
    )


# What a home page's team card shows of each person (home/includes_team_card.html): the user rows
# without their password, permissions and preferences (half of the cards' time, issue 16).
_CARD_PERSON = ("first_name", "last_name", "username", "is_active", "away_from", "away_until")


def _home_team_queryset():
    members = Membership.objects.select_related("user").only(*(f"user__{f}" for f in _CARD_PERSON), "team_id")
    return (
        Team.objects.select_related("manager", "parent")
        .only("name", "time_zone", "parent__name", *(f"manager__{f}" for f in _CARD_PERSON))
        .prefetch_related(Prefetch("memberships", queryset=members.order_by("user__first_name")))
    )


@login_required
def home(request):
    user = request.user
    # New people (and everyone after a new version) read the expectations first, once per session.
    if expectations_target := first_view_redirect(request):
        return redirect(expectations_target)
    if user.is_admin:
        teams = _team_queryset()
        return render(request, "home/admin.html", {"teams": teams, "people_count": User.objects.count()})
    if user.is_manager:
        team_scope(user)  # the scoping answers of the page's panels, in one query (two before)
        teams = _home_team_queryset().filter(id__in=managed_team_ids(user))
        return render(request, "home/manager.html", {"teams": teams})
    teams = _home_team_queryset().filter(id__in=member_team_ids(user))
    return render(request, "home/rep.html", {"teams": teams})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _background_rows():
    """When the beat last sent the minute sweep, and when a worker last finished one."""
    sweep = PeriodicTask.objects.filter(name="sla-sweep", enabled=True).values_list("last_run_at", flat=True).first()
    worker = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    return sweep, worker


def _check_background(beat_at, worker_at) -> dict[str, tuple[str, str | None]]:
    """(state, error) for the beat and the worker."""
    stale = timezone.now() - timedelta(seconds=settings.HEALTHZ_STALE_SECONDS)
    if beat_at is None:
        return {"beat": ("starting", None), "worker": ("starting", None)}
    beat = ("ok", None) if beat_at >= stale else ("down", f"the sweep was last sent at {beat_at.isoformat()}")
    if worker_at is not None and worker_at >= stale:
        worker = ("ok", None)
    elif beat_at < stale:
        worker = ("unknown", None)  # nothing was sent to it: the beat is the failure
    else:
        when = worker_at.isoformat() if worker_at else "never"
        worker = ("down", f"the beat sends sweeps but no worker finished one since {when}")
    return {"beat": beat, "worker": worker}


@never_cache
@require_GET
def healthz(request):
    """200 when the database, the broker, the beat and the worker are all alive; 503 naming the
    ones that are not. The beat is alive when django-celery-beat sent the minute sweep recently
    (its last_run_at); the worker when it finished a sweep recently (Heartbeat "worker"). Before
    the beat's first run (a fresh install, the tests) both read "starting", which is not a failure."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    body = {name: "ok" if not error else "down" for name, error in checks.items()}
    if not checks["database"]:
        beat_at, worker_at = _background_rows()
        for name, (state, error) in _check_background(beat_at, worker_at).items():
            body[name], checks[name] = state, error
        body["beat_last_run"] = beat_at.isoformat() if beat_at else None
        body["worker_last_sweep"] = worker_at.isoformat() if worker_at else None
    down = [name for name, error in checks.items() if error]
    for name in down:
        logger.warning("healthz: %s is down: %s", name, checks[name])
    body["status"] = "ok" if not down else "unavailable"
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


@admin_required
def team_list(request):
    return render(request, "accountability/team_list.html", {"teams": _team_queryset()})


@admin_required
def team_edit(request, pk: int | None = None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    if request.method == "POST":
        form = TeamForm(request.POST, team=team)
        if form.is_valid():
            try:
                team = team_save(actor=request.user, team=team, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Team “{team.name}” saved.")
                return redirect("team-list")
    else:
        initial = {}
        if team:
            initial = {
                "name": team.name,
                "parent": team.parent,
                "manager": team.manager,
                "time_zone": team.time_zone,
                "members": list(team.members.all()),
            }
        form = TeamForm(initial=initial, team=team)
    return render(request, "accountability/team_form.html", {"form": form, "team": team})


# --- people -------------------------------------------------------------------------------


@admin_required
def people_list(request):
    filters = PeopleFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    people = people_for_admin(
        q=(chosen.get("q") or "").strip(),
        team=chosen.get("team"),
        role=chosen.get("role") or "",
        status=chosen.get("status") or "",
    )
    return render(request, "accountability/people_list.html", {"people": people, "filters": filters})


def _person_initial(person: User) -> dict:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "role": person.role,
        "teams": list(person.teams.all()),
        "manages": list(person.managed_teams.all()),
        "phone": person.phone,
        "time_zone": person.time_zone,
        "away_from": person.away_from,
        "away_until": person.away_until,
    }


@admin_required
def person_invite(request):
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.person_invite(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                person = invitation.user
                messages.success(
                    request,
                    f"Invitation sent to {person.email}: the link to set a password works for "
                    f"{settings.INVITATION_VALID_DAYS} days.",
                )
                return redirect("person-edit", pk=person.pk)
    else:
        form = PersonForm(initial={"role": User.Role.REP})
    return render(
        request, "accountability/person_invite.html", {"form": form, "valid_days": settings.INVITATION_VALID_DAYS}
    )


@admin_required
def person_edit(request, pk: int):
    person = person_for_admin(pk)
    if person is None:
        raise Http404("No such person.")
    if request.method == "POST":
        form = PersonForm(request.POST, person=person)
        if form.is_valid():
            try:
                services.person_update(actor=request.user, person=person, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{person} updated.")
                return redirect("people-list")
    else:
        form = PersonForm(initial=_person_initial(person), person=person)
    invitation = person.invitation_list[0] if person.invitation_list else None
    context = {
        "form": form,
        "person": person,
        "invitation": invitation,
        "invited_no_password": not person.has_usable_password(),
        "reports_to": reports_to(person),
    }
    return render(request, "accountability/person_form.html", context)


@admin_required
@require_POST
def person_invitation_resend(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    try:
        services.invitation_resend(actor=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A new link was sent to {person.email}; the previous one no longer works.")
    return redirect("person-edit", pk=person.pk)


@admin_required
@require_POST
def person_reactivate(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    try:
        services.person_reactivate(actor=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{person} is active again and can log in. Their former leads stay with their new owners."
        )
    return redirect("person-edit", pk=person.pk)


@role_required(User.Role.MANAGER)
def person_page(request, pk: int):
    """A manager's page for one of their reps: teams, whom they report to, contact, time away
    (which they set here). Another team's person: 404."""
    person = get_visible_or_404(people_managed_by(request.user).prefetch_related("teams"), pk=pk)
    if request.method == "POST":
        form = TimeAwayForm(request.POST)
        if form.is_valid():
            try:
                services.time_away_set(actor=request.user, person=person, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if form.cleaned_data["away_until"]:
                    messages.success(request, f"Time away saved for {person}.")
                else:
                    messages.success(request, f"{person} is no longer marked away.")
                return redirect("person-page", pk=person.pk)
    else:
        form = TimeAwayForm(initial={"away_from": person.away_from, "away_until": person.away_until})
    return render(
        request,
        "accountability/person_page.html",
        {"person": person, "form": form, "reports_to": reports_to(person)},
    )


# --- the invitation link (no log-in) ---------------------------------------------------------

RENEW_WINDOW = 3600
RENEWS_PER_HOUR = 3


@never_cache
@sensitive_post_parameters()
def invitation_accept(request, token: str):
    """The invitee sets their password, then is logged in. A link that no longer works says why,
    and offers a new one when it was genuine (expired, or replaced by a newer invitation)."""
    check = services.invitation_check(token)
    if check.problem:
        status = 404 if check.problem == "invalid" else 410
        return render(
            request, "accountability/invitation_invalid.html", {"check": check, "token": token}, status=status
        )
    person = check.invitation.user
    if request.method == "POST":
        form = SetPasswordForm(person, request.POST)
        if form.is_valid():
            try:
                person = services.invitation_accept(token=token, password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                auth_login(request, person, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome, {person.first_name}: your password is set.")
                return redirect("home")
    else:
        form = SetPasswordForm(person)
    return render(request, "accountability/invitation_accept.html", {"form": form, "person": person})


@never_cache
@require_POST
def invitation_renew(request, token: str):
    """Ask for a fresh link from a stale one: it goes to the address on the account."""
    check = services.invitation_check(token)
    if not check.renewable:
        return render(request, "accountability/invitation_invalid.html", {"check": check, "token": token}, status=410)
    allowed, retry_after = ratelimit.hit(
        "invite-renew", str(check.invitation.user_id), limit=RENEWS_PER_HOUR, window=RENEW_WINDOW
    )
    if not allowed:
        response = render(
            request, "registration/locked_out.html", {"what": "reset", "retry_after": retry_after}, status=429
        )
        response["Retry-After"] = str(retry_after)
        return response
    services.invitation_renew(token=token)
    return render(request, "accountability/invitation_renewed.html", {"person": check.invitation.user})
