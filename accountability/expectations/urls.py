app_name = "expectations"

urlpatterns: list = []
