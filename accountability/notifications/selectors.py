from dataclasses import dataclass
from functools import cache

from django.db import connections, router
from django.db.models import QuerySet

from accountability.models import Team, User
from accountability.notifications.kinds import KINDS
from accountability.notifications.models import ChatWebhook, Delivery, Notification, NotificationPreference
from accountability.scoping import get_visible_or_404, managed_teams


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class BellState:
    """What the bell shows, and the version a polling tab compares with (its ETag)."""

    user_id: int
    last_id: int
    unread: int

    @property
    def etag(self) -> str:
        # The newest notice and the unread count: a new notice changes the first, reading
        # one (here or in another tab) the second. The user's id keeps a shared browser
        # from matching another person's version after a change of login.
        return f'"bell-{self.user_id}-{self.last_id}-{self.unread}"'


def bell_state(user: User) -> BellState:
    """The bell in one query, on every page and on every poll: the newest notice's id (the
    recipient index) and the unread count (the partial index of unread notices). Written once
    in SQL: the ORM spent more time building this aggregate than PostgreSQL answering it."""
    db = router.db_for_read(Notification)
    with connections[db].cursor() as cursor:
        cursor.execute(_bell_sql(), [user.pk])
        last, unread = cursor.fetchone()
    return BellState(user_id=user.pk, last_id=last or 0, unread=unread or 0)


@cache
def _bell_sql() -> str:
    # The table name comes from the model; the user's id is a query parameter.
    table = Notification._meta.db_table
    return f"SELECT MAX(id), COUNT(CASE WHEN read_at IS NULL THEN 1 END) FROM {table} WHERE recipient_id = %s"  # noqa: S608


# A poll shows at most this many toasts: a burst of notices is summed up by the bell's count.
TOASTS_PER_POLL = 3


def notifications_new_since(user: User, after_id: int) -> list[Notification]:
    """Unread notices that arrived after the newest one a tab already knew of, oldest first."""
    rows = Notification.objects.filter(recipient=user, id__gt=after_id, read_at__isnull=True).order_by("-id")
    return list(rows[:TOASTS_PER_POLL])[::-1]


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
