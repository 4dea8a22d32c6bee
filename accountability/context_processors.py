from accountability.notifications.selectors import bell_state


def navigation(request):
    """Role and unread-notice count for the navigation bar: one query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    bell = bell_state(user)
    return {"role": user.effective_role, "unread_notifications": bell.unread, "bell": bell}
