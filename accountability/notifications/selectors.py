from django.db.models import QuerySet

from accountability.models import Team, User
from accountability.notifications.kinds import KINDS
from accountability.notifications.models import ChatWebhook, Delivery, Notification, NotificationPreference
from accountability.scoping import get_visible_or_404, managed_teams


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
    has_chat_hook = ChatWebhook.objects.filter(user=user).exists()
    initial = {"phone": user.phone}
    for code, kind in KINDS.items():
        pref = saved.get(code)
        initial[f"email_{code}"] = pref.email if pref else kind.email
        initial[f"sms_{code}"] = (pref.sms if pref else kind.sms) and bool(user.phone)
        initial[f"chat_{code}"] = (pref.chat if pref else kind.chat) and has_chat_hook
    return initial


def failed_deliveries():
    return Delivery.objects.filter(state=Delivery.State.FAILED).select_related(
        "notification", "notification__recipient"
    )


def chat_webhook_of(user: User) -> ChatWebhook | None:
    return ChatWebhook.objects.filter(user=user).first()


def chat_teams_for(user: User) -> QuerySet[Team]:
    """The teams whose chat channel `user` may set (their managed teams; admin: all), each with its
    webhook (or None) in one query."""
    return managed_teams(user).select_related("chat_webhook").order_by("name")


def chat_team_get_for_user(user: User, pk) -> Team:
    """One team whose chat channel `user` may set: 404 when it does not exist or is not theirs."""
    return get_visible_or_404(chat_teams_for(user), pk=pk)
