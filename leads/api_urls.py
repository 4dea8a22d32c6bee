"""The token-authenticated intake API, mounted at /api/v1/."""

from django.urls import path, re_path

from leads.api import LeadIntakeView, api_not_found

urlpatterns: list = [
    path("leads/", LeadIntakeView.as_view(), name="api-lead-create"),
    re_path(r"^.*$", api_not_found),  # every API answer is JSON, a wrong path too
]
