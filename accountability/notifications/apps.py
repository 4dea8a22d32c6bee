from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class NotificationsConfig(AppConfig):
    name = "accountability.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # Every app's kinds of notice (<app>/notices.py), registered once Django has loaded the
        # apps: the preferences page lists them all, whichever pages were visited first.
        autodiscover_modules("notices")
