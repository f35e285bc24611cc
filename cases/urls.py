"""This app's portal pages, included under /portal/cases/ with the namespace "cases"."""

app_name = "cases"

urlpatterns = []
