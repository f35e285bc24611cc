"""This app's portal pages, included under /portal/quotes/ with the namespace "quotes"."""

app_name = "quotes"

urlpatterns = []
