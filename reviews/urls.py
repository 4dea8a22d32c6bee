from django.urls import path

from reviews import dashboard_views, views

app_name = "reviews"

urlpatterns = [
    path("", views.review_list, name="review-list"),
    path("<int:pk>/", views.review_detail, name="review-detail"),
    path("<int:pk>/print/", views.review_print, name="review-print"),
    path("<int:pk>/assessment/<str:side>/", views.assessment_save, name="assessment-save"),
    path("<int:pk>/share/", views.review_share, name="review-share"),
    path("<int:pk>/acknowledge/", views.review_acknowledge, name="review-acknowledge"),
    path("<int:pk>/respond/", views.review_respond, name="review-respond"),
    path("<int:pk>/reassign/", views.review_reassign, name="review-reassign"),
    path("evidence/<str:kind>/", views.evidence, name="evidence"),
    path("cycles/", views.cycle_list, name="cycle-list"),
    path("cycles/new/", views.cycle_create, name="cycle-create"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle-detail"),
    path("cycles/<int:pk>/open/", views.cycle_open, name="cycle-open"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle-close"),
    path("cycles/<int:pk>/add-rep/", views.cycle_add_rep, name="cycle-add-rep"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/new/", views.template_edit, name="template-create"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template-edit"),
    path("action-items/", views.action_item_list, name="action-item-list"),
    path("action-items/new/", views.action_item_create, name="action-item-create"),
    path("action-items/<int:pk>/close/", views.action_item_close, name="action-item-close"),
    path("one-on-ones/", views.one_on_one_list, name="one-on-one-list"),
    path("one-on-ones/meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("one-on-ones/meetings/<int:pk>/agenda/", views.agenda_add, name="agenda-add"),
    path("one-on-ones/meetings/<int:pk>/notes/", views.meeting_notes, name="meeting-notes"),
    path("one-on-ones/meetings/<int:pk>/close/", views.meeting_close, name="meeting-close"),
    path("one-on-ones/agenda/<int:pk>/decide/", views.agenda_decide, name="agenda-decide"),
    path("dashboard/", dashboard_views.review_dashboard, name="dashboard"),
    path("people/<int:pk>/", dashboard_views.rep_page, name="rep-page"),
    path("flags/<int:pk>/<str:action>/", dashboard_views.flag_transition, name="flag-transition"),
]
