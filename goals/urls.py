from django.urls import path

from goals import views

app_name = "goals"

urlpatterns = [
    path("", views.goal_list, name="goal-list"),
    path("board/", views.board, name="board"),
    path("new/", views.goal_create, name="goal-create"),
    path("recent-figure/", views.recent_figure, name="goal-recent-figure"),
    path("<int:pk>/", views.goal_detail, name="goal-detail"),
    path("<int:pk>/edit/", views.goal_edit, name="goal-edit"),
    path("<int:pk>/approve/", views.goal_approve, name="goal-approve"),
    path("<int:pk>/reject/", views.goal_reject, name="goal-reject"),
    path("<int:pk>/check-ins/", views.checkin_create, name="checkin-create"),
    path("commitments/", views.commitment_list, name="commitment-list"),
    path("commitments/new/", views.commitment_create, name="commitment-create"),
    path("commitments/<int:pk>/check/", views.commitment_check, name="commitment-check"),
    path("commitments/<int:pk>/close/", views.commitment_close, name="commitment-close"),
    path("commitments/<int:pk>/carry/", views.commitment_carry, name="commitment-carry"),
]
