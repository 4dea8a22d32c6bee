def expectations(request):
    """Context for the expectations banner (filled in by the expectations app)."""
    return {}
