"""The builtin `timesince` filter (accountability/templatetags/formatting.py) writes exactly what
Django's does, in every unit and across months and zones; it only translates its words once."""

import datetime as dt
import random
import zoneinfo

from django.template import Context, Template
from django.utils import translation
from django.utils.timesince import timesince as django_timesince

from accountability.templatetags.formatting import timesince

UTC = dt.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_same_words_as_django_for_many_gaps():
    rng = random.Random(16)
    now = dt.datetime(2026, 12, 6, 14, 5, 30, tzinfo=UTC)
    gaps = [0, 30, 59, 60, 61, 3599, 3600, 3661, 86399, 86400, 90000, 7 * 86400, 8 * 86400, 31 * 86400]
    gaps += [rng.randint(0, 3 * 365 * 86400) for _ in range(2000)]
    for seconds in gaps:
        then = now - dt.timedelta(seconds=seconds)
        assert timesince(then, now) == django_timesince(then, now), seconds
        assert timesince(then.astimezone(PARIS), now) == django_timesince(then.astimezone(PARIS), now), seconds
    future = now + dt.timedelta(hours=2)
    assert timesince(future, now) == django_timesince(future, now) == "0\xa0minutes"


def test_month_ends_and_leap_years_as_django():
    for then, now in [
        (dt.datetime(2024, 1, 31, tzinfo=UTC), dt.datetime(2024, 2, 29, 12, tzinfo=UTC)),
        (dt.datetime(2024, 2, 29, tzinfo=UTC), dt.datetime(2025, 3, 1, tzinfo=UTC)),
        (dt.datetime(2025, 12, 31, 23, 59, tzinfo=UTC), dt.datetime(2026, 1, 1, 0, 1, tzinfo=UTC)),
    ]:
        assert timesince(then, now) == django_timesince(then, now)


def test_it_is_the_filter_templates_use_and_it_follows_the_language():
    then, now = dt.datetime(2026, 12, 1, 10, tzinfo=UTC), dt.datetime(2026, 12, 6, 14, tzinfo=UTC)
    template = Template("{{ then|timesince:now }}|{{ empty|timesince }}|{{ day|timesince:now_day }}")
    context = {"then": then, "now": now, "empty": None, "day": dt.date(2026, 11, 1), "now_day": dt.date(2026, 12, 6)}
    assert template.render(Context(context)) == "5\xa0days, 4\xa0hours||1\xa0month"
    with translation.override("fr"):
        assert timesince(then, now) == django_timesince(then, now) == "5\xa0jours, 4\xa0heures"
