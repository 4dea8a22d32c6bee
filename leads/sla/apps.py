from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "leads.sla"
    label = "sla"
    verbose_name = "Follow-up SLAs"
