"""The token-authenticated intake API, mounted at /api/v1/, with its schema and documentation page."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from leads.api import LeadBatchIntakeView, LeadIntakeView, api_not_found

urlpatterns: list = [
    path("leads/", LeadIntakeView.as_view(), name="api-lead-create"),
    path("leads/batch/", LeadBatchIntakeView.as_view(), name="api-lead-batch"),
    # OpenAPI 3 (YAML; ?format=json for JSON) and Swagger UI, both public: they describe, never hold, tokens.
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", api_not_found),  # every API answer is JSON, a wrong path too
]
