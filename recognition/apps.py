from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"

    def ready(self):
        from recognition import notices  # noqa: F401 - registers the notice kinds
        from recognition.hooks import connect

        connect()
