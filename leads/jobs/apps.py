from django.apps import AppConfig


class LeadJobsConfig(AppConfig):
    name = "leads.jobs"
    label = "leadjobs"
    verbose_name = "Imports and exports in the background"
