"""The managers' weekly recognition digest: who in their teams was recognised last week and
who has had nothing in 30 days. One notice per manager per ISO week (the key carries the week),
so a repeated run sends nothing new."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from accountability.models import Membership, User
from accountability.notifications.models import Notification
from accountability.notifications.services import notification_create
from accountability.scoping import managed_team_ids
from accountability.timezones import site_time_zone
from recognition import notices
from recognition.models import KudosRecipient
from recognition.selectors import unrecognised


def digest_manager_send(*, manager: User, now: dt.datetime | None = None) -> Notification | None:
    now = now or timezone.now()
    managed = managed_team_ids(manager)
    if not managed:
        return None
    today = now.astimezone(site_time_zone()).date()
    people = Membership.objects.filter(team_id__in=managed).values("user_id")
    received = list(
        KudosRecipient.objects.filter(
            user_id__in=people, kudos__hidden=False, created_at__gte=now - dt.timedelta(days=7), created_at__lt=now
        )
        .select_related("user", "kudos__giver", "kudos__rule")
        .order_by("-created_at")
    )
    lines = [f"- {row.user}: {row.kudos.giver or row.kudos.rule} — {row.kudos.message[:100]}" for row in received[:30]]
    quiet = unrecognised(manager, now=now)
    if quiet:
        lines.append("No recognition in 30 days: " + ", ".join(str(p) for p, _ in quiet) + ".")
    year, week, _ = today.isocalendar()
    return notification_create(
        recipient=manager,
        kind=notices.KUDOS_DIGEST_MANAGER,
        title=f"Recognition in your teams last week: {len(received)} kudos"
        + (f", {len(quiet)} without any in 30 days" if quiet else ""),
        body="\n".join(lines) or "No kudos last week.",
        key=f"kudos-digest-manager:{year}-W{week:02d}",
        url=reverse("recognition:unrecognised-list"),
    )
