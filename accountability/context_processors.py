from accountability.notifications.selectors import unread_count


def navigation(request):
    """Role and unread-notice count for the navigation bar: one query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"role": user.effective_role, "unread_notifications": unread_count(user)}
