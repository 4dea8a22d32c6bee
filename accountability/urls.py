from django.contrib import admin
from django.urls import include, path

from accountability import auth_views, views
from leads import people_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.login_view, name="login"),
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("settings/teams/", views.team_list, name="team-list"),
    path("settings/teams/new/", views.team_edit, name="team-create"),
    path("settings/teams/<int:pk>/", views.team_edit, name="team-edit"),
    path("settings/people/", views.people_list, name="people-list"),
    path("settings/people/invite/", views.person_invite, name="person-invite"),
    path("settings/people/<int:pk>/", views.person_edit, name="person-edit"),
    path("settings/people/<int:pk>/resend/", views.person_invitation_resend, name="person-invitation-resend"),
    path("settings/people/<int:pk>/reactivate/", views.person_reactivate, name="person-reactivate"),
    path("settings/people/<int:pk>/deactivate/", people_views.person_deactivate_view, name="person-deactivate"),
    path("people/<int:pk>/", views.person_page, name="person-page"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("invitation/<str:token>/renew/", views.invitation_renew, name="invitation-renew"),
    path("notifications/", include("accountability.notifications.urls")),
    path("expectations/", include("accountability.expectations.urls")),
    path("leads/", include("leads.urls")),
    path("sla/", include("leads.sla.urls")),
    path("api/v1/", include("leads.api_urls")),
    path("goals/", include("goals.urls")),
    path("reviews/", include("reviews.urls")),
    path("recognition/", include("recognition.urls")),
    path("calendar/", include("reviews.calendar_urls")),  # private calendar feeds (follow-ups and 1:1s)
    path("admin/", admin.site.urls),
]
