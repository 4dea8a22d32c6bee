from django.db.models import QuerySet

from accountability.models import User
from accountability.notifications.kinds import KINDS
from accountability.notifications.models import Delivery, Notification, NotificationPreference


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def preferences_initial(user: User) -> dict:
    """Form initial values: the user's choices, else each kind's default.

    SMS is never offered ticked to someone without a mobile number (a kind's SMS default, or a
    choice saved before the number was removed): saving the page as shown must always work,
    and such a box would be refused. The page says how to get SMS instead."""
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    initial = {"phone": user.phone}
    for code, kind in KINDS.items():
        pref = saved.get(code)
        initial[f"email_{code}"] = pref.email if pref else kind.email
        initial[f"sms_{code}"] = (pref.sms if pref else kind.sms) and bool(user.phone)
    return initial


def failed_deliveries():
    return Delivery.objects.filter(state=Delivery.State.FAILED).select_related(
        "notification", "notification__recipient"
    )
