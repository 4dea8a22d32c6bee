from django.urls import path

from accountability.notifications import chat_views, views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="notification-list"),
    path("<int:pk>/open/", views.notification_open, name="notification-open"),
    path("live/", views.notification_live, name="live"),
    path("read-all/", views.notification_read_all, name="notification-read-all"),
    path("preferences/", views.preference_edit, name="preference-edit"),
    path("outbox/", views.outbox_list, name="outbox-list"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
    # Chat (Slack/Teams webhooks): a person's own, and a team's channel.
    path("preferences/chat/", chat_views.my_webhook_save, name="chat-mine-save"),
    path("preferences/chat/remove/", chat_views.my_webhook_remove, name="chat-mine-remove"),
    path("preferences/chat/test/", chat_views.my_webhook_test, name="chat-mine-test"),
    path("chat/", chat_views.team_list, name="chat-team-list"),
    path("chat/teams/<int:pk>/", chat_views.team_edit, name="chat-team-edit"),
    path("chat/teams/<int:pk>/remove/", chat_views.team_remove, name="chat-team-remove"),
    path("chat/teams/<int:pk>/test/", chat_views.team_test, name="chat-team-test"),
]
