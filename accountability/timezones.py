"""Which time zone a person reads the site in: one rule for every page.

UserTimeZoneMiddleware activates it for each request, so every template and every
`timezone.localtime()` / form date field shows and reads times in it.
"""

import zoneinfo

from django.conf import settings
from django.db.models import OuterRef, Subquery

from accountability.models import Team, User
from accountability.scoping import first_teams

_CACHE_ATTR = "_time_zone_cache"


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def site_time_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The person's own zone if set; else their first team's (scoping.first_teams: oldest membership);
    else the first team they manage (managers are usually on no team); else settings.TIME_ZONE.

    At most one query, and none when the person has their own zone. The answer is cached on the
    user object; request.user lives for one request, so a change shows on the next page.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return site_time_zone()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None and cached[0] == user.time_zone:
        return cached[1]
    zone = _zone(user.time_zone)
    if zone is None:
        teams = Team.objects.order_by("id").values("time_zone")
        names = (
            User.objects.filter(pk=user.pk)
            .annotate(
                member_tz=Subquery(first_teams(OuterRef("pk")).values("time_zone")[:1]),
                managed_tz=Subquery(teams.filter(manager=OuterRef("pk"))[:1]),
            )
            .values_list("member_tz", "managed_tz")
            .first()
        ) or ()
        zone = next((z for z in map(_zone, names) if z is not None), None)
    zone = zone or site_time_zone()
    setattr(user, _CACHE_ATTR, (user.time_zone, zone))
    return zone


def figures_time_zone(user, team: Team | None = None) -> zoneinfo.ZoneInfo:
    """The zone in which figures (periods such as "last 30 days") are cut.

    For a team, the team's zone; for a person, their first team's zone, whatever zone they
    read the site in, so the figures a rep sees about themselves are the ones their manager
    sees about them. A person on no team falls back to `user_time_zone`.
    """
    if team is not None:
        return _zone(team.time_zone) or site_time_zone()
    first_team = first_teams(user).values("time_zone").first()
    return (_zone(first_team["time_zone"]) if first_team else None) or user_time_zone(user)


def figures_time_zones(users) -> dict[int, zoneinfo.ZoneInfo]:
    """`figures_time_zone` for many people (User objects or ids) in one query, whatever their number.

    The same rule: the person's first team's zone (by membership, oldest first); for a person on no
    team, the zone they read the site in (their own, else the first team they manage, else the site's).
    """
    ids = {getattr(u, "pk", u) for u in users}
    if not ids:
        return {}
    teams = Team.objects.order_by("id").values("time_zone")
    first_membership = first_teams(OuterRef("pk")).values("time_zone")[:1]
    rows = (
        User.objects.filter(pk__in=ids)
        .annotate(member_tz=Subquery(first_membership), managed_tz=Subquery(teams.filter(manager=OuterRef("pk"))[:1]))
        .values_list("pk", "member_tz", "time_zone", "managed_tz")
    )
    zones = {}
    for pk, *names in rows:
        zones[pk] = next((z for z in map(_zone, names) if z is not None), None) or site_time_zone()
    return zones
