from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.models import User
from accountability.notifications.models import Notification


def notification_create(
    *, recipient: User, kind: str, title: str, key: str, body: str = "", url: str = ""
) -> Notification | None:
    """Record an in-app notice once per (recipient, key). Returns None when it already exists."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient, kind=kind, title=title[:200], body=body, url=url, dedupe_key=key[:200]
            )
    except IntegrityError:
        return None


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())
