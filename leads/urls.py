from leads.reports.urls import urlpatterns as report_urlpatterns

app_name = "leads"

urlpatterns: list = [
    *report_urlpatterns,
]
