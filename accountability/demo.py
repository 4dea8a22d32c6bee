"""Demo organisation: a head of sales, two teams with their managers, eight reps, an admin.

Every app may add a `demo.py` with `seed(ctx: DemoContext)`; `seed_demo` calls them in
INSTALLED_APPS order after this one. Each seeder must be deterministic (use ctx.rng)
and safe to run twice.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from accountability.models import Invitation, Membership, Team, User

DEMO_PASSWORD = "demo-pass-2026"

PEOPLE = [
    # username, first, last, role
    ("admin", "Ada", "Admin", User.Role.ADMIN),
    ("helen", "Helen", "Hart", User.Role.MANAGER),  # head of sales
    ("maria", "Maria", "Lopez", User.Role.MANAGER),
    ("sam", "Sam", "Okafor", User.Role.MANAGER),
    ("alice", "Alice", "Nguyen", User.Role.REP),
    ("bob", "Bob", "Schmidt", User.Role.REP),
    ("carlos", "Carlos", "Diaz", User.Role.REP),
    ("dana", "Dana", "Kim", User.Role.REP),
    ("erin", "Erin", "Walsh", User.Role.REP),
    ("frank", "Frank", "Osei", User.Role.REP),
    ("grace", "Grace", "Liu", User.Role.REP),
    ("henry", "Henry", "Brown", User.Role.REP),
]

TEAMS = [
    # name, parent, manager, time zone, members
    ("Sales", None, "helen", "America/New_York", []),
    ("Inbound East", "Sales", "maria", "America/New_York", ["alice", "bob", "carlos", "dana"]),
    ("Inbound West", "Sales", "sam", "America/Los_Angeles", ["erin", "frank", "grace", "henry"]),
]


@dataclass
class DemoContext:
    users: dict[str, User]
    teams: dict[str, Team]
    now: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(20261125))
    created: list[str] = field(default_factory=list)


def seed_org() -> DemoContext:
    users: dict[str, User] = {}
    for username, first, last, role in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "email": f"{username}@demo.example",
                "is_staff": role == User.Role.ADMIN,
                "is_superuser": role == User.Role.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[username] = user
    teams: dict[str, Team] = {}
    for name, parent, manager, tz, members in TEAMS:
        team, _ = Team.objects.get_or_create(
            name=name, defaults={"parent": teams.get(parent), "manager": users[manager], "time_zone": tz}
        )
        teams[name] = team
        for username in members:
            Membership.objects.get_or_create(team=team, user=users[username])
    return DemoContext(users=users, teams=teams, now=timezone.now())


def seed_people(ctx: DemoContext) -> None:
    """The people admin's story: Ivy, a new rep of Inbound West invited by Ada and yet to set her
    password (no lead goes to her until she has), and Henry's time away planned for next week
    (he still gets leads until then). Seeded before the apps' seeders, so a second run finds
    the same people."""
    ivy, created = User.objects.get_or_create(
        username="ivy@demo.example",
        defaults={"first_name": "Ivy", "last_name": "Chen", "email": "ivy@demo.example", "role": User.Role.REP},
    )
    if created:
        ivy.set_unusable_password()
        ivy.save(update_fields=["password"])
        Membership.objects.get_or_create(team=ctx.teams["Inbound West"], user=ivy)
        Invitation.objects.create(
            user=ivy,
            invited_by=ctx.users["admin"],
            created_at=ctx.now,
            sent_at=ctx.now,
            expires_at=ctx.now + timedelta(days=7),
        )
        ctx.created.append("Ivy Chen invited to Inbound West (no password yet): Configure > People")
    henry = ctx.users["henry"]
    if henry.away_until is None:
        start = timezone.localdate(ctx.now) + timedelta(days=7)
        henry.away_from, henry.away_until = start, start + timedelta(days=4)
        henry.save(update_fields=["away_from", "away_until"])
