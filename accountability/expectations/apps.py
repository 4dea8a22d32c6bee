from django.apps import AppConfig


class ExpectationsConfig(AppConfig):
    name = "accountability.expectations"
    label = "expectations"
    verbose_name = "Expectations documents"
