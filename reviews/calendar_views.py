"""The private calendar feed: a settings page (see, copy, reset the URL) and the feed itself.

The feed URL carries its own secret (calendar apps send no cookies), so the feed view needs no
login: the token is the credential, revoked by a reset. Fetches are rate-limited per token, and
answered 304 when the calendar app already has the current version (ETag)."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from accountability import ratelimit
from accountability.services import calendar_feed_token_get_or_create, calendar_feed_token_reset
from reviews.calendar import calendar_events_for, calendar_feed_owner, calendar_render

# Bumped when calendar_render changes what it writes for the same events, so cached copies refresh.
FEED_VERSION = 1


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@login_required
@require_GET
def calendar_settings(request):
    token = calendar_feed_token_get_or_create(user=request.user)
    feed_url = request.build_absolute_uri(reverse("calendar:feed", args=[token.token]))
    return render(request, "reviews/calendar_settings.html", {"feed_url": feed_url, "token": token})


@login_required
@require_POST
def calendar_reset(request):
    calendar_feed_token_reset(actor=request.user, user=request.user)
    messages.success(
        request, "Your calendar feed has a new address. The old one stops working: subscribe again with this one."
    )
    return redirect("calendar:settings")


@require_GET
def calendar_feed(request, token: str):
    # Per token: a calendar app polls every few hours; a loop or a leaked URL hammering it is cut off.
    # An unknown token is counted per client address, so guessing costs no database work beyond one lookup.
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    allowed, retry_after = ratelimit.hit("calendar", digest, limit=settings.CALENDAR_FEED_RATE_LIMIT)
    if not allowed:
        response = HttpResponse("Too many requests for this calendar feed.", status=429, content_type="text/plain")
        response["Retry-After"] = str(retry_after)
        return response
    owner = calendar_feed_owner(token)
    if owner is None:
        raise Http404("No such calendar feed (it may have been reset).")
    base_url = _base_url(request)
    events = calendar_events_for(owner, base_url=base_url)
    # The ETag is a digest of what the document is made of, so a calendar app's revalidation is
    # answered 304 without serialising anything (most of the cost of a full fetch).
    name = owner.get_full_name() or owner.get_username()
    etag = '"' + hashlib.sha256(repr((FEED_VERSION, name, base_url, events)).encode()).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        body = calendar_render(owner, events, base_url=base_url)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="accountability.ics"'
    response["ETag"] = etag
    # private: the feed is one person's; no-cache: revalidate each time (a reset must bite at once).
    patch_cache_control(response, private=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex"
    return response
