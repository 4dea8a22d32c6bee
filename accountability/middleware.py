from django.utils import timezone

from accountability.timezones import user_time_zone


class UserTimeZoneMiddleware:
    """Every page a signed-in person opens is in their time zone (accountability.timezones).

    The active zone is per thread, so it is put back as it was after the response, whatever
    happens (timezone.override): the next request on this thread (perhaps someone else's)
    starts from the site zone. Goes after AuthenticationMiddleware. Anonymous pages stay in
    settings.TIME_ZONE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = user_time_zone(user) if user is not None and user.is_authenticated else None
        with timezone.override(zone):  # None: the site's zone
            return self.get_response(request)
