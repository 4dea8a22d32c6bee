from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self):
        from reviews import notices  # noqa: F401 - registers the notice kinds
        from reviews.dashboard import track_row_models

        track_row_models()
