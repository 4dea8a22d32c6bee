"""Demo expectations: an organisation document in two versions, a team document for Inbound East,
and some people having acknowledged the current versions while others have not."""

from decimal import Decimal

from accountability.expectations import services
from accountability.expectations.models import Document

VALUES = """Our customers trust us with their time and their money. We sell the way we would want to be sold to.

- **Honesty first.** We never promise what the product does not do, and we say "I don't know,
  I'll find out" when we don't.
- **Respect the no.** A lost deal with a customer who trusts us is worth more than a won deal that churns.
- **Own it.** If a lead is yours, it is yours until it is won, lost or handed over with a note.

### Sales charter
1. Every inbound lead gets a human reply inside our response-time target.
2. We log every call, email and meeting the same day, so the team can pick up where we left off.
3. No discounts outside the price book without a manager's written approval.
"""

RESPONSIBILITIES = """**Reps** own their leads from first contact to close: qualify, follow up on the date they
promised, and keep the stage honest. **Managers** coach weekly, unblock deals, and are the first escalation when a
lead is neglected. **The head of sales** owns the process and this document.

Our process: *New → Contacted → Qualified → Proposal → Won/Lost*. A lead without a next follow-up date is
a lead nobody owns.
"""

KPI_NOTES = """These are the numbers on every dashboard and in every review. The speed-to-lead target is the one our
follow-up SLA enforces, so the document and the escalation clock always agree."""

LEARNING = """- One product or sales-skills session a month (the Thursday lunch sessions count).
- New reps shadow two calls a day in their first two weeks.
- Each quarter, pick one skill to improve and agree it with your manager at your review."""

FEEDBACK_V1 = """- A 30-minute 1:1 with your manager every week: pipeline, blockers, one thing to try.
- A written review every quarter against the KPIs below, your goals and this document.
- Reviews feed recognition: hitting every KPI for a quarter earns a place on the team board."""

FEEDBACK_V2 = FEEDBACK_V1 + "\n- Peer feedback: once a quarter, two teammates of your choice add a short note."

CHANGES = """We review this document every quarter, and whenever the market or the team changes enough to need it.
Each new version says what changed, and everyone is asked to read and acknowledge it within three days."""

KPIS = [
    # metric, direction, target, period, bind to SLA, note
    ("speed_to_lead_median", "at_most", "15", "week", True, "A fast first reply wins the conversation."),
    ("follow_up_compliance", "at_least", "90", "week", False, "Follow up on the date you promised."),
    ("conversion_rate", "at_least", "20", "quarter", False, ""),
    ("activities", "at_least", "60", "week", False, "Calls, emails, meetings and texts."),
    ("value_won", "at_least", "25000", "quarter", False, ""),
]

TEAM_EAST = """Inbound East covers the east-coast time zones: first replies go out before 10:00 local time for leads
that arrived overnight, and Friday afternoons are for clearing the follow-up list."""

# Every manager has read it (they chase their reps); some reps have not yet.
ACKNOWLEDGED_ORG = ["alice", "bob", "erin", "frank", "helen", "maria", "sam"]
ACKNOWLEDGED_EAST = ["alice", "carlos"]


def seed(ctx) -> None:
    if Document.objects.filter(team__isnull=True).exists():
        return  # already seeded (or written by a real admin): leave it alone
    admin = ctx.users["admin"]
    sections = {
        "values": VALUES,
        "responsibilities": RESPONSIBILITIES,
        "kpi_notes": KPI_NOTES,
        "learning": LEARNING,
        "feedback": FEEDBACK_V1,
        "changes": CHANGES,
    }
    document = services.document_create(actor=admin, team=None, title="How we sell")
    draft = document.versions.get()
    services.draft_update(actor=admin, version=draft, **sections)
    for metric, direction, target, period, bind, note in KPIS[:4]:
        services.kpi_add(
            actor=admin,
            version=draft,
            metric=metric,
            target=Decimal(target),
            direction=direction,
            period=period,
            bind_to_sla=bind,
            note=note,
        )
    services.version_publish(actor=admin, version=draft, change_summary="First version of our expectations.")

    draft = services.draft_start(actor=admin, document=document)
    services.draft_update(actor=admin, version=draft, feedback=FEEDBACK_V2)
    metric, direction, target, period, bind, note = KPIS[4]
    services.kpi_add(
        actor=admin,
        version=draft,
        metric=metric,
        target=Decimal(target),
        direction=direction,
        period=period,
        bind_to_sla=bind,
        note=note,
    )
    current = services.version_publish(
        actor=admin, version=draft, change_summary="Added quarterly peer feedback and a value-won KPI."
    )
    for username in ACKNOWLEDGED_ORG:
        services.acknowledgement_create(actor=ctx.users[username], version=current)

    east = ctx.teams["Inbound East"]
    team_doc = services.document_create(actor=admin, team=east, title="Inbound East: how we work")
    draft = team_doc.versions.get()
    services.draft_update(actor=admin, version=draft, responsibilities=TEAM_EAST)
    services.kpi_add(
        actor=admin,
        version=draft,
        metric="calls",
        target=Decimal(40),
        direction="at_least",
        period="week",
        note="East leads prefer a call.",
    )
    east_version = services.version_publish(
        actor=admin, version=draft, change_summary="First version for Inbound East."
    )
    for username in ACKNOWLEDGED_EAST:
        services.acknowledgement_create(actor=ctx.users[username], version=east_version)
    ctx.created.append(
        "Expectations: “How we sell” v2 (5 KPIs) acknowledged by "
        f"{len(ACKNOWLEDGED_ORG)} people; Inbound East team document acknowledged by {len(ACKNOWLEDGED_EAST)}."
    )
