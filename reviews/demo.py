"""Demo reviews and 1:1s: last quarter's cycle closed (shared, acknowledged, action items half
done), this month's cycle open with reviews in every state, weekly 1:1s for maria's team.

Log in as alice to write a self-assessment (her review is a draft), as maria to write a manager
assessment (bob has submitted his). Everything goes through the services, dated from ctx.now;
a second run finds the cycles and series by name and person and creates nothing.
"""

import datetime as dt
from decimal import Decimal

from accountability.demo import DemoContext
from reviews import drift_demo, services
from reviews.models import ActionItem, AgendaItem, Assessment, Meeting, OneOnOneSeries, Review, ReviewCycle
from reviews.models import ReviewTemplate as Template
from reviews.services import AnswerInput, CriterionInput

TEMPLATE = "Sales review"
CRITERIA = [
    CriterionInput("kpi", "Each expectations KPI in force", Decimal(2)),
    CriterionInput("goal", "Each goal of the period", Decimal("1.5")),
    CriterionInput("value", "Honesty with customers", Decimal(1)),
    CriterionInput("value", "Customer first", Decimal(1)),
    CriterionInput("question", "Teamwork: helping teammates save leads", Decimal(1)),
    CriterionInput("question", "What will you focus on next period?", Decimal(1), "text"),
]
HIGHLIGHTS = [
    "Called every web lead within the hour on most days.",
    "Closed two deals that had been stuck in proposal.",
    "Helped a teammate save three neglected leads.",
]
CHALLENGES = [
    "Follow-ups slipped during the conference week.",
    "Too many open leads without a next step.",
    "Speed to lead on weekend leads.",
]
ITEMS = [
    ("Set a next follow-up date on every open lead", "rep"),
    ("Shadow a senior rep on two discovery calls", "rep"),
    ("Review the weekend lead routing with the team", "manager"),
]


def _template(ctx: DemoContext) -> Template:
    existing = Template.objects.filter(name=TEMPLATE, is_current=True).first()
    if existing:
        return existing
    ctx.created.append(f"review template {TEMPLATE}")
    return services.template_save(
        actor=ctx.users["admin"],
        name=TEMPLATE,
        scale_min=1,
        scale_max=5,
        scale_labels=["Well below", "Below", "Meets", "Exceeds", "Outstanding"],
        criteria=CRITERIA,
    )


def _write(ctx: DemoContext, actor, review: Review, side: str, *, submit: bool, now) -> Review:
    rng = ctx.rng
    answers = {}
    criteria = list(review.criteria.all())
    figures = services.figures_for_rating(review)
    computed = services.computed_ratings(review, figures, criteria)
    overridden = False
    for c in criteria:
        if c.answer == "text":
            answers[c.pk] = AnswerInput(comment="Faster first contact and a next step on every lead.")
        elif c.pk in computed and side == "manager" and computed[c.pk] == 1 and not overridden:
            overridden = True  # one written override per manager assessment, to show how it reads
            answers[c.pk] = AnswerInput(
                rating=2, comment="Low, but improving.", override_reason="Two weeks of leave in the period."
            )
        elif c.pk in computed:
            answers[c.pk] = AnswerInput(rating="", comment="As the figure says.")  # the figure's rating
        else:
            answers[c.pk] = AnswerInput(rating=rng.randint(2, 5), comment=rng.choice(["Solid.", "Good progress.", ""]))
    assessment = Assessment.objects.get(review=review, side=side)
    services.assessment_save(
        actor=actor,
        review=review,
        side=side,
        version=assessment.version,
        highlights=rng.choice(HIGHLIGHTS),
        challenges=rng.choice(CHALLENGES),
        answers=answers,
        figures=figures,
    )
    if submit:
        submit_fn = services.review_submit_self if side == "self" else services.review_submit_manager
        review = submit_fn(actor=actor, review=review, now=now)
    return review


def _advance(ctx: DemoContext, review: Review, state: str, now) -> Review:
    """Walk one review through the workflow up to `state`."""
    order = list(Review.State.values)
    target = order.index(state)
    if target >= 1:
        review = _write(ctx, review.rep, review, "self", submit=True, now=now)
    if target >= 2:
        review = _write(ctx, review.reviewer, review, "manager", submit=True, now=now)
    if target >= 3:
        review = services.review_share(actor=review.reviewer, review=review, now=now)
    if target >= 4:
        review = services.review_acknowledge(
            actor=review.rep,
            review=review,
            comment=ctx.rng.choice(["Thanks, fair.", "", "Seen; see my response."]),
            now=now,
        )
    return review


def _last_quarter(ctx: DemoContext, template) -> None:
    """The three full months before this one (the span the leads demo fills with activity)."""
    this_month = ctx.now.date().replace(day=1)
    end = this_month - dt.timedelta(days=1)
    start = (this_month - dt.timedelta(days=80)).replace(day=1)
    name = f"{start:%b} to {end:%b %Y} quarterly review"
    if ReviewCycle.objects.filter(name=name).exists():
        return
    admin = ctx.users["admin"]
    cycle = services.cycle_create(
        actor=admin,
        name=name,
        preset=ReviewCycle.Preset.QUARTERLY,
        period_start=start,
        period_end=end,
        teams=[ctx.teams["Sales"]],
        self_deadline=end + dt.timedelta(days=4),
        manager_deadline=end + dt.timedelta(days=8),
        template=template,
    )
    services.cycle_open(actor=admin, cycle=cycle, now=ctx.now - dt.timedelta(hours=2))
    done_at = ctx.now - dt.timedelta(hours=1)
    for i, review in enumerate(cycle.reviews.select_related("rep", "reviewer", "cycle").order_by("rep__username")):
        review = _advance(ctx, review, Review.State.ACKNOWLEDGED, done_at)
        for j, (text, owner) in enumerate(ITEMS[:2] if i % 2 else ITEMS):
            item = services.action_item_create(
                actor=review.reviewer,
                text=text,
                owner=review.rep if owner == "rep" else review.reviewer,
                due_date=end + dt.timedelta(days=30 + 10 * j),
                review=review,
                lead_filter=f"owner={review.rep_id}&overdue=on" if j == 0 else "",
            )
            if (i + j) % 2 == 0:  # half done
                services.action_item_close(actor=item.owner, item=item, status=ActionItem.Status.DONE)
        if i % 3 == 0:
            services.review_respond(
                actor=review.rep,
                review=review,
                response="I agree on follow-ups; the weekend routing is not mine alone.",
            )
    services.cycle_close(actor=admin, cycle=cycle, now=ctx.now - dt.timedelta(minutes=30))
    ctx.created.append(f"review cycle {name} (closed, {cycle.reviews.count()} reviews acknowledged)")


# rep -> the state their review of this month is left in
THIS_MONTH = {
    "alice": Review.State.DRAFT,  # log in as alice to write it
    "bob": Review.State.SELF_SUBMITTED,  # log in as maria to write the manager assessment
    "carlos": Review.State.MANAGER_SUBMITTED,
    "dana": Review.State.SHARED,
    "erin": Review.State.ACKNOWLEDGED,
    "frank": Review.State.SELF_SUBMITTED,
}


def _this_month(ctx: DemoContext, template) -> None:
    start = ctx.now.date().replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    name = f"{start:%B %Y} check-in review"
    if ReviewCycle.objects.filter(name=name).exists():
        return
    admin = ctx.users["admin"]
    cycle = services.cycle_create(
        actor=admin,
        name=name,
        preset=ReviewCycle.Preset.MONTHLY,
        period_start=start,
        period_end=end,
        teams=[ctx.teams["Sales"]],
        self_deadline=end + dt.timedelta(days=3),
        manager_deadline=end + dt.timedelta(days=8),
        template=template,
    )
    services.cycle_open(actor=admin, cycle=cycle, now=ctx.now)
    for review in cycle.reviews.select_related("rep", "reviewer", "cycle"):
        state = THIS_MONTH.get(review.rep.username, Review.State.DRAFT)
        review = _advance(ctx, review, state, ctx.now)
        if state == Review.State.SHARED or state == Review.State.ACKNOWLEDGED:
            services.action_item_create(
                actor=review.reviewer,
                text="Contact the neglected leads this week",
                owner=review.rep,
                due_date=ctx.now.date() + dt.timedelta(days=7),
                review=review,
                lead_filter=f"owner={review.rep_id}&untouched=on",
            )
    ctx.created.append(f"review cycle {name} (open, reviews in every state)")


def _one_on_ones(ctx: DemoContext) -> None:
    maria = ctx.users["maria"]
    for k, username in enumerate(["alice", "bob", "carlos", "dana"]):
        rep = ctx.users[username]
        if OneOnOneSeries.objects.filter(manager=maria, rep=rep, is_active=True).exists():
            continue
        start = ctx.now - dt.timedelta(days=29)
        series = services.series_create(
            actor=maria,
            rep=rep,
            cadence=OneOnOneSeries.Cadence.WEEKLY,
            weekday=(1 + k) % 5,
            time=dt.time(10),
            now=start,
        )
        for week in range(4):
            meeting = series.meetings.filter(state=Meeting.State.SCHEDULED).order_by("scheduled_at").first()
            if meeting is None or meeting.scheduled_at > ctx.now:
                break
            services.agenda_add(
                actor=rep, meeting=meeting, text=ctx.rng.choice(["Weekend leads", "Pipeline review", "Training"])
            )
            for n, item in enumerate(meeting.agenda.filter(state=AgendaItem.State.SUGGESTED)):
                services.agenda_decide(actor=maria, item=item, keep=(week + n) % 2 == 0)
            state = Meeting.State.SKIPPED if week == 2 else Meeting.State.HELD
            if state == Meeting.State.HELD:
                services.meeting_notes_save(
                    actor=maria,
                    meeting=meeting,
                    shared_notes=f"Went through the pipeline; agreed next steps for week {week + 1}.",
                    private_note="Watch the follow-up discipline; praise the saves." if week == 1 else "",
                )
                if week == 0:
                    services.action_item_create(
                        actor=maria,
                        text="Book two discovery demos",
                        owner=rep,
                        due_date=(meeting.scheduled_at + dt.timedelta(days=7)).date(),
                        meeting=meeting,
                    )
            services.meeting_close(actor=maria, meeting=meeting, state=state, now=meeting.scheduled_at)
        services.meeting_schedule_next(series=series, now=ctx.now)
    ctx.created.append("weekly 1:1s for maria's team with past meetings")


def seed(ctx: DemoContext) -> None:
    template = _template(ctx)
    _last_quarter(ctx, template)
    _this_month(ctx, template)
    _one_on_ones(ctx)
    drift_demo.seed(ctx)  # after the rollup (leads demo), the kudos (recognition demo) and the 1:1s
