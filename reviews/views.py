"""Review and 1:1 pages. Thin: read through reviews.selectors, write through one service each."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accountability.models import Team, User
from accountability.scoping import admin_required, get_visible_or_404, managed_team_ids, users_visible_to
from leads.forms import LeadFilterForm
from leads.selectors import leads_visible_to
from reviews import permissions as perms
from reviews import selectors, services
from reviews.evidence import evidence_rows
from reviews.forms import ActionItemForm, CycleForm, SeriesForm, TemplateForm, criteria_text
from reviews.models import (
    ActionItem,
    Answer,
    AnswerKind,
    Assessment,
    DriftFlag,
    FrozenFigure,
    Meeting,
    Review,
    ReviewCycle,
    ReviewTemplate,
)
from reviews.packet import SECTIONS, review_period


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


# --- My reviews -------------------------------------------------------------------------------


@login_required
@require_GET
def review_list(request):
    user = request.user
    visible = selectors.reviews_visible_to(user)
    mine = list(visible.filter(rep=user).order_by("-cycle__period_start", "-pk"))
    current = next((r for r in mine if r.state != Review.State.ACKNOWLEDGED), None)
    to_write = list(
        visible.filter(reviewer=user, cycle__state=ReviewCycle.State.OPEN)
        .exclude(state__in=[Review.State.SHARED, Review.State.ACKNOWLEDGED])
        .order_by("cycle__manager_deadline", "rep__first_name")
    )
    cycles = list(selectors.cycles_visible_to(user)[:20]) if services.can_run_cycles(user) else []
    return render(
        request,
        "reviews/review_list.html",
        {
            "current": current,
            "current_due": _due_for(user, current) if current else [],
            "history": [r for r in mine if r is not current],
            "to_write": to_write,
            "cycles": cycles,
            "can_run_cycles": services.can_run_cycles(user),
            "today": timezone.localdate(),
        },
    )


def _due_for(user, review: Review) -> list[str]:
    actions = perms.allowed_actions(user, review)
    out = []
    if "self_submit" in actions:
        out.append(f"Write and submit your self-assessment by {review.cycle.self_deadline:%d %b %Y}.")
    if "acknowledge" in actions:
        out.append("Read your shared review and acknowledge it.")
    if "respond" in actions:
        out.append("Optionally, add a written response.")
    return out


# --- The review page --------------------------------------------------------------------------


def _load_review(user, pk) -> Review:
    review = selectors.review_get_for_user(user, pk)
    return review


def _packet_view(review: Review) -> tuple[list, dict, list]:
    """(sections of rows, figures by key, changes since frozen). Rows are (figure, live value if it changed)."""
    live = services.review_packet(review)
    live_by_key = live.by_key()
    changes = []
    if review.frozen_at:
        figures = list(review.frozen_figures.all())
        by_key = {f.key: f for f in figures}
        rows = []
        for f in figures:
            now_figure = live_by_key.get(f.key)
            changed = now_figure.value if now_figure is not None and now_figure.value != f.value else None
            if changed is not None:
                changes.append((f, changed))
            rows.append((f, changed))
    else:
        by_key = live_by_key
        rows = [(f, None) for f in live.figures]
    sections = []
    for key, label in SECTIONS:
        section_rows = [row for row in rows if row[0].section == key]
        if section_rows:
            sections.append((label, section_rows))
    return sections, by_key, changes


def _criteria_rows(review: Review, user, figures: dict, posted: QueryDict | None, my_side: str | None):
    criteria = list(review.criteria.all())
    computed = services.computed_ratings(review, figures, criteria)
    answers: dict[tuple[str, int], Answer] = {}
    for assessment in review.assessments.all():
        for answer in assessment.answers.all():
            answers[(assessment.side, answer.criterion_id)] = answer
    rows = []
    for c in criteria:
        mine = answers.get((my_side, c.pk)) if my_side else None
        rating = comment = reason = ""
        if posted is not None:
            rating = posted.get(f"rating_{c.pk}", "")
            comment = posted.get(f"comment_{c.pk}", "")
            reason = posted.get(f"reason_{c.pk}", "")
        elif mine is not None:
            rating = "" if mine.rating is None else str(mine.rating)
            comment, reason = mine.comment, mine.override_reason
        elif c.pk in computed:
            rating = str(computed[c.pk])
        figure = figures.get(c.figure_key) if c.figure_key else None
        so_far = services.target_so_far(c, review, getattr(figure, "computed_at", None) or timezone.now())
        rows.append(
            {
                "criterion": c,
                "figure": figure,
                "target_so_far": so_far if so_far != c.target else None,
                "computed": computed.get(c.pk),
                "self": answers.get((Assessment.Side.SELF, c.pk)),
                "manager": answers.get((Assessment.Side.MANAGER, c.pk)),
                "rating": rating,
                "comment": comment,
                "reason": reason,
                "is_rating": c.answer == AnswerKind.RATING,
            }
        )
    return rows


def _review_queryset(user):
    return selectors.reviews_visible_to(user).prefetch_related(
        "criteria",
        Prefetch("assessments", queryset=Assessment.objects.prefetch_related("answers")),
        Prefetch("frozen_figures", queryset=FrozenFigure.objects.order_by("position")),
        Prefetch("action_items", queryset=ActionItem.objects.select_related("owner").order_by("due_date", "pk")),
    )


def _render_review(request, pk, *, posted=None, errors=None, status=200, template="reviews/review_detail.html"):
    user = request.user
    review = get_visible_or_404(_review_queryset(user), pk=pk)
    role = perms.role_on(user, review)
    actions = perms.allowed_actions(user, review)
    my_side = (
        Assessment.Side.SELF
        if "self_edit" in actions
        else Assessment.Side.MANAGER
        if "manager_edit" in actions
        else None
    )
    sections, figures, changes = _packet_view(review)
    assessments = {a.side: a for a in review.assessments.all()}
    previous = services.review_previous(review)
    reassign_to = _reassign_candidates(review) if "reassign" in actions else []
    return render(
        request,
        template,
        {
            "review": review,
            "role": role,
            "actions": actions,
            "my_side": my_side,
            "my_assessment": assessments.get(my_side) if my_side else None,
            # An unsubmitted self-assessment (the manager went ahead after its deadline) is the rep's only.
            "sees_self": perms.sees_self(user, review)
            and (role == perms.REP or bool(getattr(assessments.get(Assessment.Side.SELF), "submitted_at", None))),
            "no_self_assessment": review.state != Review.State.DRAFT and review.self_submitted_at is None,
            "can_submit": _can_submit_now(actions, review),
            "sees_manager": perms.sees_manager(user, review),
            "self_assessment": assessments.get(Assessment.Side.SELF),
            "manager_assessment": assessments.get(Assessment.Side.MANAGER),
            "sections": sections,
            "changes": changes,
            "rows": _criteria_rows(review, user, figures, posted, my_side),
            "scale": review.cycle.template.scale_points(),
            "posted": posted,
            "form_errors": errors or [],
            "previous": previous,
            "reassign_to": reassign_to,
            "action_form": ActionItemForm(),
            "action_items": list(review.action_items.all()),
            "today": timezone.localdate(),
        },
        status=status,
    )


def _can_submit_now(actions: set[str], review: Review) -> bool:
    if "self_submit" in actions:
        return True
    if "manager_submit" not in actions:
        return False
    return review.state != Review.State.DRAFT or timezone.localdate() > review.cycle.self_deadline


def _reassign_candidates(review: Review) -> list[User]:
    teams = {t.pk: t for t in Team.objects.select_related("manager")}
    out, team, seen = [], teams.get(review.team_id), set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        if team.manager_id and team.manager_id not in (review.rep_id, review.reviewer_id):
            out.append(team.manager)
        team = teams.get(team.parent_id)
    return out


@login_required
@require_GET
def review_detail(request, pk: int):
    return _render_review(request, pk)


@login_required
@require_GET
def review_print(request, pk: int):
    return _render_review(request, pk, template="reviews/review_print.html")


@login_required
@require_POST
def assessment_save(request, pk: int, side: str):
    if side not in Assessment.Side.values:
        raise Http404
    review = _load_review(request.user, pk)
    post = request.POST
    answers = {}
    for c in review.criteria.all():
        answers[c.pk] = services.AnswerInput(
            rating=post.get(f"rating_{c.pk}", ""),
            comment=post.get(f"comment_{c.pk}", ""),
            override_reason=post.get(f"reason_{c.pk}", ""),
        )
    try:
        version = int(post.get("version", ""))
    except ValueError:
        version = -1
    try:
        services.assessment_save(
            actor=request.user,
            review=review,
            side=side,
            version=version,
            highlights=post.get("highlights", ""),
            challenges=post.get("challenges", ""),
            answers=answers,
        )
    except ValidationError as exc:
        return _render_review(request, pk, posted=post, errors=_errors(exc), status=400)
    if post.get("action") == "submit":
        submit = services.review_submit_self if side == Assessment.Side.SELF else services.review_submit_manager
        try:
            submit(actor=request.user, review=review)
        except ValidationError as exc:
            # The draft above is saved: nothing typed is lost; the submission waits for the fix.
            return _render_review(
                request, pk, posted=post, errors=["Your draft is saved but not submitted.", *_errors(exc)], status=400
            )
        messages.success(request, "Submitted.")
    else:
        messages.success(request, "Draft saved.")
    return redirect("reviews:review-detail", pk=pk)


def _simple_post(request, pk, call, success: str):
    review = _load_review(request.user, pk)
    try:
        call(review)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, success)
    return redirect("reviews:review-detail", pk=pk)


@login_required
@require_POST
def review_share(request, pk: int):
    return _simple_post(
        request, pk, lambda r: services.review_share(actor=request.user, review=r), "Shared with the rep."
    )


@login_required
@require_POST
def review_acknowledge(request, pk: int):
    comment = request.POST.get("comment", "")
    return _simple_post(
        request,
        pk,
        lambda r: services.review_acknowledge(actor=request.user, review=r, comment=comment),
        "Acknowledged: your manager knows you have seen the review.",
    )


@login_required
@require_POST
def review_respond(request, pk: int):
    response = request.POST.get("response", "")
    return _simple_post(
        request,
        pk,
        lambda r: services.review_respond(actor=request.user, review=r, response=response),
        "Response added.",
    )


@login_required
@require_POST
def review_reassign(request, pk: int):
    review = _load_review(request.user, pk)
    candidates = {u.pk: u for u in _reassign_candidates(review)}
    try:
        reviewer = candidates[int(request.POST.get("reviewer", ""))]
    except (KeyError, ValueError):
        messages.error(request, "Choose a manager of the rep's team.")
        return redirect("reviews:review-detail", pk=pk)
    return _simple_post(
        request,
        pk,
        lambda r: services.review_reassign(actor=request.user, review=r, reviewer=reviewer),
        f"{reviewer} now writes this review.",
    )


# --- Evidence: the rows behind a packet figure --------------------------------------------------

EVIDENCE_TITLES = {
    "breaches": "SLA breaches",
    "escalations": "Escalated leads",
    "saved_by": "Leads saved by the rep",
    "saved_from": "The rep's leads saved by others",
    "follow_ups": "Follow-ups due",
    "activities": "Activities logged",
    "won": "Deals won",
    "closed": "Leads closed (won or lost)",
    "commitments": "Weekly commitments",
}


@login_required
@require_GET
def evidence(request, kind: str):

    if kind not in EVIDENCE_TITLES:
        raise Http404
    rep = get_visible_or_404(users_visible_to(request.user), pk=request.GET.get("rep"))
    try:
        first = dt.date.fromisoformat(request.GET.get("from", ""))
        last = dt.date.fromisoformat(request.GET.get("to", ""))
        period = review_period(first, last, rep)
    except ValueError:
        raise Http404("Bad period.") from None
    rows = evidence_rows(kind, rep=rep, period=period, viewer=request.user)
    return render(
        request,
        "reviews/evidence.html",
        {"kind": kind, "title": EVIDENCE_TITLES[kind], "rep": rep, "period": period, "rows": rows},
    )


# --- Cycles and templates -----------------------------------------------------------------------


def _require_cycle_runner(user):
    if not services.can_run_cycles(user):
        raise PermissionDenied


@login_required
@require_GET
def cycle_list(request):
    _require_cycle_runner(request.user)
    return render(
        request,
        "reviews/cycle_list.html",
        {"cycles": list(selectors.cycles_visible_to(request.user).prefetch_related("teams"))},
    )


@login_required
def cycle_create(request):
    _require_cycle_runner(request.user)
    form = CycleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cycle = services.cycle_create(
                actor=request.user,
                name=d["name"],
                preset=d["preset"],
                period_start=d["period_start"],
                period_end=d["period_end"],
                teams=list(d["teams"]),
                include_subteams=d["include_subteams"],
                self_deadline=d["self_deadline"],
                manager_deadline=d["manager_deadline"],
                template=d["template"],
            )
        except ValidationError as exc:
            for field, msgs in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error(field if field in form.fields else None, msgs)
        else:
            messages.success(request, "Cycle created as a draft: open it when ready.")
            return redirect("reviews:cycle-detail", pk=cycle.pk)
    return render(request, "reviews/cycle_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def cycle_detail(request, pk: int):
    cycle = selectors.cycle_get_for_user(request.user, pk)
    reviews = selectors.cycle_progress(request.user, cycle)
    today = timezone.localdate()
    reps_missing = []
    can_manage = request.user.is_admin or set(cycle.teams.values_list("pk", flat=True)) <= managed_team_ids(
        request.user
    )
    if cycle.state == ReviewCycle.State.OPEN and can_manage:
        have = {r.rep_id for r in reviews}
        reps_missing = [p for p, _, _ in services.people_to_review(cycle) if p.pk not in have]
    counts = {state: sum(1 for r in reviews if r.state == state) for state in Review.State.values}
    return render(
        request,
        "reviews/cycle_detail.html",
        {
            "cycle": cycle,
            "reviews": reviews,
            "counts": [(Review.State(s).label, n) for s, n in counts.items()],
            "teams": list(cycle.teams.all()),
            "today": today,
            "self_overdue": cycle.state == ReviewCycle.State.OPEN and cycle.self_deadline < today,
            "manager_overdue": cycle.state == ReviewCycle.State.OPEN and cycle.manager_deadline < today,
            "reps_missing": reps_missing,
            "can_manage": can_manage,
        },
    )


def _cycle_post(request, pk, call, success):
    cycle = selectors.cycle_get_for_user(request.user, pk)
    try:
        result = call(cycle)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, success.format(result=result))
    return redirect("reviews:cycle-detail", pk=pk)


@login_required
@require_POST
def cycle_open(request, pk: int):
    return _cycle_post(
        request, pk, lambda c: services.cycle_open(actor=request.user, cycle=c), "Cycle opened: {result} reviews."
    )


@login_required
@require_POST
def cycle_close(request, pk: int):
    return _cycle_post(
        request, pk, lambda c: services.cycle_close(actor=request.user, cycle=c), "Cycle closed; packets frozen."
    )


@login_required
@require_POST
def cycle_add_rep(request, pk: int):
    rep = get_visible_or_404(users_visible_to(request.user), pk=request.POST.get("rep"))
    return _cycle_post(
        request, pk, lambda c: services.cycle_add_rep(actor=request.user, cycle=c, rep=rep), f"{rep} added."
    )


@admin_required
@require_GET
def template_list(request):
    return render(request, "reviews/template_list.html", {"templates": list(selectors.templates_current())})


@admin_required
def template_edit(request, pk: int | None = None):
    previous = get_visible_or_404(ReviewTemplate.objects.filter(is_current=True), pk=pk) if pk else None
    initial = {}
    if previous is not None:
        initial = {
            "name": previous.name,
            "scale_min": previous.scale_min,
            "scale_max": previous.scale_max,
            "scale_labels": ", ".join(previous.scale_labels or []),
            "criteria": criteria_text(previous),
        }
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            template = services.template_save(
                actor=request.user,
                name=d["name"],
                scale_min=d["scale_min"],
                scale_max=d["scale_max"],
                scale_labels=form.labels(),
                criteria=d["criteria"],
                previous=previous,
            )
        except ValidationError as exc:
            for msgs in getattr(exc, "message_dict", {"__all__": exc.messages}).values():
                form.add_error(None, msgs)
        else:
            messages.success(request, f"Saved {template}.")
            return redirect("reviews:template-list")
    return render(
        request, "reviews/template_form.html", {"form": form, "previous": previous}, status=400 if form.errors else 200
    )


# --- Action items -------------------------------------------------------------------------------


@login_required
@require_GET
def action_item_list(request):
    qs = selectors.action_items_visible_to(request.user)
    rep = None
    if request.GET.get("rep"):
        rep = get_visible_or_404(users_visible_to(request.user), pk=request.GET["rep"])
        qs = qs.filter(rep=rep)
    items = list(qs.order_by("status", "due_date", "pk")[:200])
    _attach_live_counts(request.user, items)
    return render(request, "reviews/action_item_list.html", {"items": items, "rep": rep, "today": timezone.localdate()})


def _attach_live_counts(user, items) -> None:
    """Items tied to a lead-list filter show how many leads it matches now (one query per such open item,
    at most 10: the rest show their link)."""

    for item in items:
        item.live_count = None
    tied = [i for i in items if i.lead_filter and i.is_open][:10]
    for item in tied:
        form = LeadFilterForm(QueryDict(item.lead_filter), user=user)
        item.live_count = form.filter(
            leads_visible_to(user), now=timezone.now(), tz=timezone.get_current_timezone()
        ).count()


def _item_source(request):
    if request.POST.get("review"):
        review = _load_review(request.user, request.POST["review"])
        return review, None, review.rep, review.reviewer, ("reviews:review-detail", review.pk)
    meeting = selectors.meeting_get_for_user(request.user, request.POST.get("meeting"))
    return None, meeting, meeting.series.rep, meeting.series.manager, ("reviews:meeting-detail", meeting.pk)


@login_required
@require_POST
def action_item_create(request):
    review, meeting, rep, manager, back = _item_source(request)
    form = ActionItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Action item not added: " + "; ".join(m for msgs in form.errors.values() for m in msgs))
        return redirect(back[0], pk=back[1])
    d = form.cleaned_data
    if d["lead_filter"] and not parse_qs(d["lead_filter"].lstrip("?")):
        messages.error(request, "The lead filter is not a lead-list query.")
        return redirect(back[0], pk=back[1])
    try:
        services.action_item_create(
            actor=request.user,
            text=d["text"],
            owner=rep if d["owner"] == "rep" else manager,
            due_date=d["due_date"],
            review=review,
            meeting=meeting,
            lead_filter=d["lead_filter"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, "Action item added.")
    return redirect(back[0], pk=back[1])


@login_required
@require_POST
def action_item_close(request, pk: int):
    item = selectors.action_item_get_for_user(request.user, pk)
    try:
        services.action_item_close(
            actor=request.user, item=item, status=request.POST.get("status", ""), reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, "Action item closed.")
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("reviews:action-item-list")


# --- 1:1s ---------------------------------------------------------------------------------------


@login_required
def one_on_one_list(request):
    user = request.user
    form = SeriesForm(request.POST or None, user=user) if (user.is_manager or user.is_admin) else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.series_create(
                    actor=user, rep=d["rep"], cadence=d["cadence"], weekday=d["weekday"], time=d["time"]
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, f"1:1s with {d['rep']} scheduled.")
                return redirect("reviews:one-on-one-list")
    series = list(
        selectors.series_visible_to(user)
        .filter(is_active=True)
        .prefetch_related(Prefetch("meetings", queryset=Meeting.objects.order_by("-scheduled_at")))
    )
    now = timezone.now()
    for s in series:
        meetings = list(s.meetings.all())
        s.next_meeting = next((m for m in reversed(meetings) if m.state == Meeting.State.SCHEDULED), None)
        past = [m for m in meetings if m.scheduled_at <= now or m.state != Meeting.State.SCHEDULED]
        s.held = sum(1 for m in past if m.state == Meeting.State.HELD)
        s.scheduled = len(past)
        s.recent = meetings[:6]
    return render(
        request,
        "reviews/one_on_one_list.html",
        {"series": series, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_GET
def meeting_detail(request, pk: int):
    meeting = selectors.meeting_get_for_user(request.user, pk)
    is_manager = request.user.pk == meeting.series.manager_id
    is_party = request.user.pk in (meeting.series.manager_id, meeting.series.rep_id)
    agenda = list(meeting.agenda.select_related("added_by"))
    items = list(meeting.action_items.select_related("owner"))
    open_items = list(
        ActionItem.objects.filter(rep=meeting.series.rep, status=ActionItem.Status.OPEN)
        .exclude(meeting=meeting)
        .select_related("owner")
    )
    # The rep's early flags, for the manager to mark discussed in this 1:1 (never the manager-only ones
    # on the rep's side).
    flags = list(
        DriftFlag.objects.filter(rep_id=meeting.series.rep_id, state__in=DriftFlag.ACTIVE_STATES).filter(
            **({} if is_manager else {"manager_only": False})
        )
    )
    return render(
        request,
        "reviews/meeting_detail.html",
        {
            "meeting": meeting,
            "flags": flags,
            "series": meeting.series,
            "is_manager": is_manager,
            "is_party": is_party,
            "agenda": agenda,
            "action_items": items,
            "open_items": open_items,
            "action_form": ActionItemForm(),
            "zone_time": timezone.localtime(meeting.scheduled_at, services._series_zone(meeting.series)),
            "today": timezone.localdate(),
        },
    )


def _meeting_post(request, pk, call, success):
    meeting = selectors.meeting_get_for_user(request.user, pk)
    try:
        call(meeting)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, success)
    return redirect("reviews:meeting-detail", pk=pk)


@login_required
@require_POST
def agenda_add(request, pk: int):
    text = request.POST.get("text", "")
    return _meeting_post(
        request, pk, lambda m: services.agenda_add(actor=request.user, meeting=m, text=text), "Added to the agenda."
    )


@login_required
@require_POST
def agenda_decide(request, pk: int):
    item = selectors.agenda_item_get_for_user(request.user, pk)
    keep = request.POST.get("decision") == "keep"
    try:
        services.agenda_decide(actor=request.user, item=item, keep=keep)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return redirect("reviews:meeting-detail", pk=item.meeting_id)


@login_required
@require_POST
def meeting_notes(request, pk: int):
    shared = request.POST.get("shared_notes", "")
    private = request.POST.get("private_note") if "private_note" in request.POST else None
    return _meeting_post(
        request,
        pk,
        lambda m: services.meeting_notes_save(actor=request.user, meeting=m, shared_notes=shared, private_note=private),
        "Notes saved.",
    )


@login_required
@require_POST
def meeting_close(request, pk: int):
    state = request.POST.get("state", "")
    label = dict(Meeting.State.choices).get(state, state).lower()
    return _meeting_post(
        request, pk, lambda m: services.meeting_close(actor=request.user, meeting=m, state=state), f"Marked {label}."
    )
