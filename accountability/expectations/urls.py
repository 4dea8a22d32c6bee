from django.urls import path

from accountability.expectations import views

app_name = "expectations"

urlpatterns = [
    path("", views.document_current, name="document-current"),
    path("manage/", views.document_list, name="document-list"),
    path("manage/new/", views.document_create, name="document-create"),
    path("status/", views.acknowledgement_status, name="acknowledgement-status"),
    path("scorecard/", views.kpi_scorecard, name="kpi-scorecard"),
    path("<int:pk>/draft/start/", views.draft_start, name="draft-start"),
    path("<int:pk>/draft/", views.draft_edit, name="draft-edit"),
    path("<int:pk>/draft/kpis/", views.kpi_create, name="kpi-create"),
    path("<int:pk>/draft/publish/", views.version_publish, name="version-publish"),
    path("kpis/<int:kpi_pk>/delete/", views.kpi_delete, name="kpi-delete"),
    path("<int:pk>/diff/", views.version_diff, name="version-diff"),
    path("<int:pk>/v<int:number>/", views.version_detail, name="version-detail"),
    path("<int:pk>/v<int:number>/print/", views.version_print, name="version-print"),
    path("<int:pk>/v<int:number>/acknowledge/", views.version_acknowledge, name="version-acknowledge"),
]
