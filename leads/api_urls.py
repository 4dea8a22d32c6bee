"""The token-authenticated intake API, mounted at /api/v1/."""

urlpatterns: list = []
