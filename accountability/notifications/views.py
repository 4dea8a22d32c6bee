from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accountability.notifications import services
from accountability.notifications.chat_views import chat_context
from accountability.notifications.forms import PreferencesForm
from accountability.notifications.models import Delivery, SmsMessage
from accountability.notifications.selectors import (
    bell_state,
    failed_deliveries,
    notifications_for,
    notifications_new_since,
    preferences_initial,
)
from accountability.notifications.services import notification_preferences_save, notifications_mark_read
from accountability.scoping import admin_required


@login_required
def notification_list(request):
    page = Paginator(notifications_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


def etag_matches(request, etag: str) -> bool:
    """The tab already shows this version (If-None-Match): the poll is answered with a 304."""
    return etag in parse_etags(request.headers.get("If-None-Match", ""))


def live_response(response: HttpResponse, etag: str) -> HttpResponse:
    """A polled answer: versioned, private to this person, and re-validated every time."""
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Cookie"])
    return response


@require_GET
def notification_live(request):
    """The bell, polled by every open tab (static/js/live.js, every 30 s while the tab is visible).

    One query (bell_state) when nothing changed, answered 304 Not Modified; when something did,
    the bell again, with a toast for each notice newer than `since` (the newest the tab knew of).
    A signed-out tab gets 401 and stops polling, instead of a login page swapped into the bell."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    bell = bell_state(request.user)
    if etag_matches(request, bell.etag):
        return live_response(HttpResponseNotModified(), bell.etag)
    try:
        since = int(request.GET.get("since", ""))
    except ValueError:
        since = bell.last_id  # no valid `since`: the bell only, no toasts
    since = max(0, min(since, bell.last_id))
    new = notifications_new_since(request.user, since) if since < bell.last_id else []
    # Rendered without the request so the context processors (the bell's query again) do not
    # run; the toasts' "Open" forms get the CSRF token explicitly.
    context = {"bell": bell, "new_notices": new, "csrf_token": get_token(request)}
    html = render_to_string("notifications/includes/bell.html", context)
    return live_response(HttpResponse(html), bell.etag)


@login_required
@require_POST
def notification_open(request, pk: int):
    notification = get_object_or_404(notifications_for(request.user), pk=pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:notification-list")


@login_required
@require_POST
def notification_read_all(request):
    notifications_mark_read(user=request.user)
    return redirect("notifications:notification-list")


@login_required
def preference_edit(request):
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                notification_preferences_save(
                    actor=request.user,
                    user=request.user,
                    phone=form.cleaned_data["phone"],
                    choices=form.cleaned_data["choices"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Notification preferences saved.")
                return redirect("notifications:preference-edit")
    else:
        form = PreferencesForm(initial=preferences_initial(request.user))
    return render(request, "notifications/preference_form.html", {"form": form, **chat_context(request.user)})


@admin_required
def outbox_list(request):
    """Admins: deliveries that finally failed, what is still pending, and the SMS outbox."""
    failed = list(failed_deliveries().order_by("-failed_at")[:100])
    pending = Delivery.objects.filter(state=Delivery.State.PENDING).count()
    sms = list(SmsMessage.objects.all()[:50])
    return render(request, "notifications/outbox_list.html", {"failed": failed, "pending": pending, "sms": sms})


@admin_required
@require_POST
def delivery_retry(request, pk: int):
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        services.delivery_retry(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Delivery {delivery.pk} will be sent again.")
    return redirect("notifications:outbox-list")
