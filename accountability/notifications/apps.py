from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accountability.notifications"
    label = "notifications"
    verbose_name = "Notifications"
