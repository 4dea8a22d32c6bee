from django.urls import path

from reviews import calendar_views

app_name = "calendar"

urlpatterns = [
    path("", calendar_views.calendar_settings, name="settings"),
    path("reset/", calendar_views.calendar_reset, name="reset"),
    path("feed/<str:token>.ics", calendar_views.calendar_feed, name="feed"),
]
