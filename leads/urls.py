from django.conf import settings
from django.urls import path

from leads import bench_views, board_views, bulk_views, intake_views, views
from leads.jobs.urls import urlpatterns as jobs_urlpatterns
from leads.reports.urls import urlpatterns as report_urlpatterns

app_name = "leads"

urlpatterns: list = [
    path("my-day/", views.my_day_view, name="my-day"),
    path("", views.lead_list, name="lead-list"),
    path("export.csv", views.lead_export, name="lead-export"),
    path("bulk/", bulk_views.lead_bulk, name="lead-bulk"),
    path("board/", board_views.lead_board, name="lead-board"),
    path("board/<int:pk>/move/", board_views.lead_board_move, name="board-move"),
    path("new/", views.lead_create_view, name="lead-create"),
    path("<int:pk>/", views.lead_detail, name="lead-detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead-edit"),
    path("<int:pk>/activities/", views.activity_create, name="activity-create"),
    path("my-day/sections/", views.my_day_sections, name="my-day-sections"),
    path("<int:pk>/quick-log/", views.quick_log_form, name="quick-log-form"),
    path("<int:pk>/stage/", views.lead_stage, name="lead-stage"),
    path("<int:pk>/reassign/", views.lead_reassign_view, name="lead-reassign"),
    path("<int:pk>/claim/", views.lead_claim_view, name="lead-claim"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("activities/<int:pk>/correct/", views.activity_correction_create, name="activity-correct"),
    path("import/", intake_views.lead_import, name="lead-import"),
    path("import/<int:pk>/preview/", intake_views.lead_import_preview, name="lead-import-preview"),
    path("import/<int:pk>/confirm/", intake_views.lead_import_confirm, name="lead-import-confirm"),
    path("intake/<slug:slug>/", intake_views.intake_form, name="intake-form"),
    path("intake/<slug:slug>/thanks/", intake_views.intake_thanks, name="intake-thanks"),
    path("intake-sources/", intake_views.intake_source_list, name="intake-source-list"),
    path("intake-sources/new/", intake_views.intake_source_create_view, name="intake-source-create"),
    path("intake-sources/<int:pk>/api/", intake_views.intake_source_api, name="intake-source-api"),
    path("intake-sources/<int:pk>/rotate/", intake_views.intake_source_rotate, name="intake-source-rotate"),
    path("intake-sources/<int:pk>/toggle/", intake_views.intake_source_toggle, name="intake-source-toggle"),
    path(
        "intake-sources/<int:pk>/public-name/", intake_views.intake_source_public_name, name="intake-source-public-name"
    ),
    path("assignment/", intake_views.intake_settings_list, name="intake-settings-list"),
    path("assignment/<int:team_id>/", intake_views.intake_settings_edit, name="intake-settings-edit"),
    *report_urlpatterns,
    *jobs_urlpatterns,
]

if settings.BENCH_PAGES:
    # The ceiling page of `manage.py bench_load` (leads/bench_views.py): mounted for the benchmark only.
    urlpatterns.append(path("bench/ceiling/", bench_views.ceiling, name="bench-ceiling"))
    urlpatterns.append(path("bench/shell/", bench_views.shell, name="bench-shell"))
