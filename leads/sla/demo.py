"""Demo SLA data: a fast organisation default policy and leads arriving now, so `make run`
shows reminders within a couple of minutes and escalations within about ten.

The demo policy counts every hour of every day (00:00-24:00) so the demo works whenever it
is run; a real organisation sets its opening hours on the SLA policies page.
"""

import datetime as dt

from accountability.demo import DemoContext
from accountability.notifications.services import notification_preferences_save
from leads.models import Lead
from leads.services import lead_create
from leads.sla.models import Holiday, SlaPolicy
from leads.sla.services import holiday_create, sla_backlog_expire, sla_policy_save

DEMO_VALUES = {
    "first_contact_minutes": 5,
    "reminder_before_minutes": 2,
    "overdue_reminder_minutes": 0,
    "no_follow_up_after_minutes": 60,
    "escalation_grace_minutes": 5,
    "second_level_delay_minutes": 10,
    "on_escalation": SlaPolicy.OnEscalation.NOTIFY,
}
ALL_DAY = dict.fromkeys(range(7), ("00:00", "24:00"))

# (email, name, company, owner, team, minutes ago)
ARRIVING = [
    ("sla-demo-1@demo.example", "Priya Raman", "Northwind Dental", "alice", "Inbound East", 1),
    ("sla-demo-2@demo.example", "Tom Becker", "Becker Roofing", "bob", "Inbound East", 4),
    ("sla-demo-3@demo.example", "Lena Fischer", "Alpine Outfitters", "erin", "Inbound West", 9),
]


def seed(ctx: DemoContext) -> None:
    admin = ctx.users["admin"]
    if not SlaPolicy.objects.filter(team=None).exists():
        sla_policy_save(actor=admin, policy=None, team=None, hours=ALL_DAY, **DEMO_VALUES)
        ctx.created.append("SLA: organisation default policy (first contact 5 min, escalation after 5 more)")
        # The policy is switched on over weeks of demo history that is already late: record
        # those events as expired so the first sweep does not flood every inbox with
        # months-old escalations. Only when the policy is created (a second seed_demo changes
        # nothing, and never expires the leads arriving now, below).
        expired = sla_backlog_expire(now=ctx.now)
        if expired:
            ctx.created.append(f"SLA: {expired} overdue event(s) of the historical leads recorded without notices")
    new_year = dt.date(ctx.now.year + 1, 1, 1)
    if not Holiday.objects.filter(team=None, date=new_year).exists():
        holiday_create(actor=admin, team=None, date=new_year, name="New Year's Day")
    # Managers get escalations by SMS too (recorded in the admin's SMS outbox).
    for username, phone in (("maria", "+14155552671"), ("sam", "+14155552672"), ("helen", "+14155552673")):
        user = ctx.users[username]
        if not user.phone:
            notification_preferences_save(actor=admin, user=user, phone=phone, choices={})
    for email, name, company, owner, team, minutes_ago in ARRIVING:
        if Lead.objects.filter(email=email).exists():
            continue
        lead_create(
            actor=None,
            team=ctx.teams[team],
            name=name,
            company=company,
            email=email,
            value=2500,
            owner=ctx.users[owner],
            arrived_at=ctx.now - dt.timedelta(minutes=minutes_ago),
        )
        ctx.created.append(f"SLA: lead {name} arrived {minutes_ago} min ago for {owner}: watch the bell")
