from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "goals"

    def ready(self):
        from goals import notices  # noqa: F401 - registers the notice kinds
