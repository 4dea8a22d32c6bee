app_name = "reviews"

urlpatterns: list = []

# --- Review dashboard and rep pages (reviews.dashboard_views) -----------------------------------
from django.urls import path  # noqa: E402

from reviews import dashboard_views  # noqa: E402

urlpatterns += [
    path("dashboard/", dashboard_views.review_dashboard, name="dashboard"),
    path("people/<int:pk>/", dashboard_views.rep_page, name="rep-page"),
    path(
        "flags/<int:pk>/<str:action>/",
        dashboard_views.flag_transition,
        name="flag-transition",
    ),
]
