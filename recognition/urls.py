from django.urls import path

from recognition import views

app_name = "recognition"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("give/", views.kudos_give_page, name="kudos-give-page"),
    path("kudos/", views.kudos_give, name="kudos-give"),
    path("kudos/<int:pk>/", views.kudos_detail, name="kudos-detail"),
    path("kudos/<int:pk>/edit/", views.kudos_edit, name="kudos-edit"),
    path("kudos/<int:pk>/delete/", views.kudos_delete, name="kudos-delete"),
    path("kudos/<int:pk>/hide/", views.kudos_hide, name="kudos-hide"),
    path("kudos/<int:pk>/unhide/", views.kudos_unhide, name="kudos-unhide"),
    path("kudos/<int:pk>/react/", views.reaction_toggle, name="reaction-toggle"),
    path("kudos/<int:pk>/comments/", views.comment_create, name="comment-create"),
    path("people/<int:pk>/", views.person_kudos, name="person-kudos"),
    path("cosign/", views.cosign_list, name="cosign-list"),
    path("cosign/<int:pk>/", views.cosign_decide, name="cosign-decide"),
    path("no-recognition/", views.unrecognised_list, name="unrecognised-list"),
    path("awards/", views.award_list, name="award-list"),
    path("awards/<int:pk>/choose/", views.award_choose, name="award-choose"),
    path("leaderboard/", views.leaderboard_view, name="leaderboard"),
    path("settings/", views.settings_edit, name="settings"),
]
