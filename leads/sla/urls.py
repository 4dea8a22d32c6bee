from django.urls import path

from leads.sla import views

app_name = "sla"

urlpatterns = [
    path("policies/", views.policy_list, name="policy-list"),
    path("policies/new/", views.policy_edit, name="policy-create"),
    path("policies/<int:pk>/", views.policy_edit, name="policy-edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy-delete"),
    path("holidays/new/", views.holiday_create, name="holiday-create"),
    path("holidays/<int:pk>/delete/", views.holiday_delete, name="holiday-delete"),
    path("escalations/", views.escalation_list, name="escalation-list"),
    path("escalations/<int:pk>/reassign/", views.escalation_reassign, name="escalation-reassign"),
    path("claimable/", views.claim_list, name="claim-list"),
    path("claimable/<int:pk>/claim/", views.escalation_claim, name="escalation-claim"),
]
