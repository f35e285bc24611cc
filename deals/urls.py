"""This app's portal pages, included under /portal/deals/ with the namespace "deals"."""

app_name = "deals"

urlpatterns = []
