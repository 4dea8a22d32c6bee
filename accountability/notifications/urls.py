from django.urls import path

from accountability.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="notification-list"),
    path("<int:pk>/open/", views.notification_open, name="notification-open"),
    path("live/", views.notification_live, name="live"),
    path("read-all/", views.notification_read_all, name="notification-read-all"),
    path("preferences/", views.preference_edit, name="preference-edit"),
    path("outbox/", views.outbox_list, name="outbox-list"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
]
