from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accountability.notifications import services
from accountability.notifications.chat_views import chat_context
from accountability.notifications.forms import PreferencesForm
from accountability.notifications.models import Delivery, SmsMessage
from accountability.notifications.selectors import failed_deliveries, notifications_for, preferences_initial
from accountability.notifications.services import notification_preferences_save, notifications_mark_read
from accountability.scoping import admin_required


@login_required
def notification_list(request):
    page = Paginator(notifications_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


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
