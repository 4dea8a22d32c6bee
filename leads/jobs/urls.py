from django.urls import path

from leads.jobs import views

# Included in the "leads" namespace (leads/urls.py).
urlpatterns: list = [
    path("import/jobs/<int:pk>/", views.import_job_page, name="import-job"),
    path("import/jobs/<int:pk>/progress/", views.import_job_progress, name="import-job-progress"),
    path("import/jobs/<int:pk>/rejected.csv", views.import_job_report, name="import-job-report"),
    path("export/jobs/", views.export_job_create, name="export-job-create"),
    path("export/jobs/<int:pk>/", views.export_job_page, name="export-job"),
    path("export/jobs/<int:pk>/progress/", views.export_job_progress, name="export-job-progress"),
    path("export/jobs/<int:pk>/download.csv", views.export_job_download, name="export-job-download"),
]
