from accountability.expectations.selectors import pending_versions_for


def expectations(request):
    """The banner's data: current versions the user has not acknowledged.

    One query for reps and managers (cached on the user for the rest of the request, so the home
    redirect and the rep panel reuse it); none for admins and anonymous visitors. Lazy, so pages
    that do not render the banner pay nothing.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"expectations_pending": lambda: pending_versions_for(user)}
