"""This app's portal pages, included under /portal/renewals/ with the namespace "renewals"."""

from django.urls import path

from . import views

app_name = "renewals"

urlpatterns = [
    path("", views.pipeline, name="pipeline"),
    path("<int:pk>/", views.renewal_detail, name="renewal-detail"),
    path("<int:pk>/<slug:action>/", views.renewal_action, name="renewal-action"),
    path("contracts/", views.contract_list, name="contract-list"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
]
