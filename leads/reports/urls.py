from django.urls import path

from leads.reports import views

urlpatterns: list = [
    path("reports/dashboard/", views.dashboard, name="dashboard"),
    path("reports/dashboard/<slug:figure>/", views.dashboard_rows, name="dashboard-rows"),
    path("reports/neglected/", views.neglected, name="neglected"),
]
