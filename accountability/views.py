import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_celery_beat.models import PeriodicTask
from kombu import Connection

from accountability.expectations.views import first_view_redirect
from accountability.forms import PersonForm, TeamForm, add_service_errors
from accountability.models import Heartbeat, Membership, Team, User
from accountability.scoping import admin_required, managed_team_ids, member_team_ids
from accountability.services import person_update, team_save

logger = logging.getLogger(__name__)


def _team_queryset():
    return Team.objects.select_related("manager", "parent").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("user__first_name"))
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
        teams = _team_queryset().filter(id__in=managed_team_ids(user))
        return render(request, "home/manager.html", {"teams": teams})
    teams = _team_queryset().filter(id__in=member_team_ids(user))
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


@admin_required
def people_list(request):
    people = User.objects.prefetch_related("teams", "managed_teams").order_by("role", "first_name")
    return render(request, "accountability/people_list.html", {"people": people})


@admin_required
def person_edit(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            try:
                person_update(actor=request.user, person=person, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{person} updated.")
                return redirect("people-list")
    else:
        form = PersonForm(
            initial={
                "role": person.role,
                "phone": person.phone,
                "away_until": person.away_until,
                "time_zone": person.time_zone,
                "is_active": person.is_active,
            }
        )
    return render(request, "accountability/person_form.html", {"form": form, "person": person})
