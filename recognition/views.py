"""Recognition pages: the feeds, giving kudos (htmx), reactions and comments in place,
moderation, a person's kudos, the co-sign queue, awards, the leaderboard and the managers'
"no recognition lately" list. Every view starts from recognition.selectors."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accountability.forms import add_service_errors
from accountability.models import Team, User
from accountability.scoping import admin_required, get_visible_or_404, manager_required
from accountability.timezones import site_time_zone
from leads.metrics import Period
from recognition import auto, awards, services
from recognition.cards import CardWriter
from recognition.forms import AwardChooseForm, CommentForm, HideForm, KudosEditForm, KudosForm, SettingsForm
from recognition.models import Award, AwardWinner, KudosComment
from recognition.selectors import (
    can_edit,
    cosign_queue,
    evidence_choices,
    evidence_resolve,
    feed_page,
    kudos_get_for_user,
    kudos_visible_to,
    people_visible_to,
    settings_get,
    team_feed_q,
    team_ids_of,
    unrecognised,
)

PAGE_SIZE = 20


def _tabs() -> dict:
    """What the recognition tabs need: whether the organisation feed is on (one query)."""
    return {"org_feed": settings_get().org_feed_enabled}


def _writer(request) -> CardWriter:
    return CardWriter(viewer=request.user, now=timezone.now(), csrf_token=get_token(request))


def _give_form(request, data=None, *, initial=None, org_feed=None) -> KudosForm:
    include = (data or {}).get("evidence", "") or (initial or {}).get("evidence", "")
    return KudosForm(
        data,
        user=request.user,
        evidence_choices=evidence_choices(request.user, include=include),
        initial=initial,
        org_feed=org_feed,
    )


def _feed_page(request, scope: str):
    config = settings_get()
    if scope == "org" and not config.org_feed_enabled:
        raise Http404("The organisation feed is off.")
    qs = kudos_visible_to(request.user, org_feed=config.org_feed_enabled)
    if scope == "team" and not request.user.is_admin:
        qs = qs.filter(team_feed_q(request.user))
    return feed_page(request.user, qs, request.GET.get("page"), per_page=PAGE_SIZE), config


@login_required
@require_GET
def feed(request):
    """The team feed (default) or the organisation feed (?scope=org, when the admin has it on)."""
    scope = "org" if request.GET.get("scope") == "org" else "team"
    page, config = _feed_page(request, scope)
    return render(
        request,
        "recognition/feed.html",
        {
            "page": page,
            "scope": scope,
            "org_feed": config.org_feed_enabled,
            "form": _give_form(request, org_feed=config.org_feed_enabled),
            "cards": _writer(request).cards(page),
        },
    )


@login_required
def kudos_give_page(request):
    """The give-kudos form on its own page (linked from a lead page, prefilled with the lead)."""
    initial = {}
    lead = request.GET.get("lead", "")
    if lead.isdigit():
        try:
            evidence_resolve(request.user, f"lead:{lead}")
            initial["evidence"] = f"lead:{lead}"
        except ValidationError:
            pass  # not visible: the form opens without evidence, revealing nothing
    return render(request, "recognition/kudos_give.html", {"form": _give_form(request, initial=initial)})


@login_required
@require_POST
def kudos_give(request):
    form = _give_form(request, request.POST)
    kudos = None
    if form.is_valid():
        try:
            evidence = evidence_resolve(request.user, form.cleaned_data["evidence"])
            kudos = services.kudos_give(
                actor=request.user,
                recipients=form.cleaned_data["recipients"],
                message=form.cleaned_data["message"],
                values=form.cleaned_data["values"],
                **evidence,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if kudos is None:
        if request.htmx:
            return render(request, "recognition/includes/give_form.html", {"form": form})
        return render(request, "recognition/kudos_give.html", {"form": form}, status=400)
    if request.htmx:
        kudos = kudos_get_for_user(request.user, kudos.pk)
        return render(
            request,
            "recognition/includes/give_success.html",
            {"form": _give_form(request), "given": kudos, "card": _writer(request).card(kudos)},
        )
    messages.success(request, "Kudos given.")
    return redirect("recognition:feed")


@login_required
@require_GET
def kudos_detail(request, pk: int):
    kudos = kudos_get_for_user(request.user, pk)
    return render(request, "recognition/kudos_detail.html", {"card": _writer(request).card(kudos)})


def _render_card(request, kudos, **extra):
    kudos = kudos_get_for_user(request.user, kudos.pk)
    return HttpResponse(_writer(request).card(kudos, **extra))


@login_required
def kudos_edit(request, pk: int):
    """GET: the edit form in place of the card (htmx). POST: save within the 10 minutes."""
    kudos = kudos_get_for_user(request.user, pk)
    if kudos.giver_id != request.user.pk:
        raise PermissionDenied
    if request.method == "POST":
        form = KudosEditForm(request.POST, kudos=kudos)
        if form.is_valid():
            try:
                services.kudos_update(
                    actor=request.user,
                    kudos=kudos,
                    message=form.cleaned_data["message"],
                    values=form.cleaned_data["values"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if request.htmx:
                    return _render_card(request, kudos)
                return redirect("recognition:kudos-detail", pk=kudos.pk)
    else:
        if not can_edit(request.user, kudos):
            raise PermissionDenied
        form = KudosEditForm(
            initial={"message": kudos.message, "values": [v.pk for v in kudos.card_values]}, kudos=kudos
        )
    return render(request, "recognition/includes/kudos_edit_form.html", {"k": kudos, "form": form})


@login_required
@require_POST
def kudos_delete(request, pk: int):
    kudos = kudos_get_for_user(request.user, pk)
    services.kudos_delete(actor=request.user, kudos=kudos)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, "Kudos deleted.")
    return redirect("recognition:feed")


@login_required
@require_POST
def kudos_hide(request, pk: int):
    kudos = kudos_get_for_user(request.user, pk)
    form = HideForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.kudos_hide(actor=request.user, kudos=kudos, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("recognition:kudos-detail", pk=kudos.pk)
    return _render_card(request, kudos, hide_error=error, hide_reason=request.POST.get("reason", ""))


@login_required
@require_POST
def kudos_unhide(request, pk: int):
    kudos = kudos_get_for_user(request.user, pk)
    try:
        services.kudos_unhide(actor=request.user, kudos=kudos)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _render_card(request, kudos)
    return redirect("recognition:kudos-detail", pk=kudos.pk)


@login_required
@require_POST
def reaction_toggle(request, pk: int):
    kudos = kudos_get_for_user(request.user, pk)
    services.reaction_toggle(actor=request.user, kudos=kudos)
    if request.htmx:
        kudos = kudos_get_for_user(request.user, pk)
        return HttpResponse(_writer(request).reactions(kudos))
    return redirect("recognition:kudos-detail", pk=kudos.pk)


@login_required
@require_POST
def comment_create(request, pk: int):
    kudos = kudos_get_for_user(request.user, pk)
    form = CommentForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.comment_add(actor=request.user, kudos=kudos, body=form.cleaned_data["body"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(m for errors in form.errors.values() for m in errors)
    if request.htmx:
        comments = KudosComment.objects.filter(kudos=kudos).select_related("author")
        return HttpResponse(
            _writer(request).comments(
                kudos, comments, comment_error=error, comment_body=request.POST.get("body", "") if error else ""
            )
        )
    if error:
        messages.error(request, error)
    return redirect("recognition:kudos-detail", pk=kudos.pk)


@login_required
@require_GET
def person_kudos(request, pk: int):
    """A person's recognition: the kudos they received that the viewer may see, and awards won."""
    org_feed = settings_get().org_feed_enabled
    person = get_visible_or_404(people_visible_to(request.user, org_feed=org_feed), pk=pk)
    qs = kudos_visible_to(request.user, org_feed=org_feed).filter(recipient_rows__user=person)
    page = feed_page(request.user, qs, request.GET.get("page"), per_page=PAGE_SIZE)
    won = AwardWinner.objects.filter(user=person).select_related("award")[:20]
    return render(
        request,
        "recognition/person_kudos.html",
        {
            "person": person,
            "page": page,
            "won": won,
            "cards": _writer(request).cards(page),
            "org_feed": org_feed,
        },
    )


# --- Managers -----------------------------------------------------------------------------------


@manager_required
@require_GET
def cosign_list(request):
    return render(request, "recognition/cosign_list.html", {"grants": cosign_queue(request.user), **_tabs()})


@manager_required
@require_POST
def cosign_decide(request, pk: int):
    grant = get_visible_or_404(cosign_queue(request.user), pk=pk)
    try:
        auto.auto_kudos_cosign(actor=request.user, grant=grant, approve=request.POST.get("decision") == "post")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Posted." if request.POST.get("decision") == "post" else "Declined.")
    return redirect("recognition:cosign-list")


@manager_required
@require_GET
def unrecognised_list(request):
    """Private to managers: who in their teams has had no recognition in 30 days."""
    return render(request, "recognition/unrecognised.html", {"rows": unrecognised(request.user), "days": 30, **_tabs()})


# --- Awards and leaderboard -------------------------------------------------------------------------


@login_required
@require_GET
def award_list(request):
    award_qs = awards.awards_visible_to(request.user).filter(active=True)
    winners = AwardWinner.objects.filter(award__in=award_qs).select_related("award", "user", "team")[:100]
    by_award: dict[int, list] = {}
    for w in winners:
        by_award.setdefault(w.award_id, []).append(w)
    rows = [
        {
            "award": a,
            "winners": by_award.get(a.pk, []),
            "metric_label": awards.AWARD_METRICS.get(a.metric, ""),
            "can_choose": a.kind == Award.Kind.MANUAL and awards.can_choose(request.user, a),
        }
        for a in award_qs
    ]
    for row in rows:
        # Only for the few manual awards this person may decide (one query each).
        row["choices"] = awards.winner_choices(row["award"]) if row["can_choose"] else []
    return render(request, "recognition/award_list.html", {"rows": rows, **_tabs()})


@login_required
@require_POST
def award_choose(request, pk: int):
    award = get_visible_or_404(awards.awards_visible_to(request.user), pk=pk)
    form = AwardChooseForm(request.POST)
    if form.is_valid():
        kind, winner_pk = form.cleaned_data["winner"]
        try:
            winner = {"user": User.objects.filter(pk=winner_pk).first()} if kind == "user" else {}
            if kind == "team":
                winner = {"team": Team.objects.filter(pk=winner_pk).first()}
            if not any(winner.values()):
                raise ValidationError("Choose one winner.")
            awards.award_choose(
                actor=request.user,
                award=award,
                period_start=form.cleaned_data["period_start"],
                note=form.cleaned_data["note"],
                **winner,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Winner recorded.")
    else:
        messages.error(request, "Choose a period and one winner.")
    return redirect("recognition:award-list")


@login_required
@require_GET
def leaderboard_view(request):
    config = settings_get()
    tz = site_time_zone()
    today = timezone.localdate(timezone=tz)
    period = Period.month_of(today, tz=tz)
    previous = Period.month_of(today.replace(day=1) - dt.timedelta(days=1), tz=tz)
    user = request.user
    team_ids = set(Team.objects.values_list("pk", flat=True)) if user.is_admin else team_ids_of(user)
    board = awards.leaderboard(
        viewer=user,
        mode=config.leaderboard_mode,
        allowed=config.leaderboard_metrics,
        team_ids=team_ids,
        period=period,
        previous=previous,
    )
    context = {"board": board, "period": period, "org_feed": config.org_feed_enabled}
    return render(request, "recognition/leaderboard.html", context)


@admin_required
def settings_edit(request):
    """Admins: the organisation feed, the giving limits and the leaderboard. Values, rules and
    awards are edited in the Django admin."""
    config = settings_get()
    form = SettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in SettingsForm.Meta.fields}
        try:
            services.recognition_settings_update(actor=request.user, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Recognition settings saved.")
            return redirect("recognition:settings")
    return render(request, "recognition/settings_form.html", {"form": form, **_tabs()})
