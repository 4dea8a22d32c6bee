"""The token-authenticated intake API, mounted at /api/v1/."""

from django.urls import path

from leads.api import LeadIntakeView

urlpatterns: list = [
    path("leads/", LeadIntakeView.as_view(), name="api-lead-create"),
]
