"""This app's portal pages, included under /portal/deals/ with the namespace "deals"."""

from django.urls import path

from . import views

app_name = "deals"

urlpatterns = [
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/<slug:verb>/", views.lead_action, name="lead-action"),
    path("registrations/", views.registration_list, name="registration-list"),
    path("registrations/new/", views.registration_create, name="registration-create"),
    path("registrations/pre-check/", views.registration_precheck, name="registration-precheck"),
    path("registrations/<int:pk>/", views.registration_detail, name="registration-detail"),
    path("registrations/<int:pk>/edit/", views.registration_edit, name="registration-edit"),
    path("registrations/<int:pk>/<slug:verb>/", views.registration_action, name="registration-action"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/<slug:verb>/", views.opportunity_action, name="opportunity-action"),
    path("commissions/", views.commission_list, name="commission-list"),
    path("commissions/<int:pk>/<slug:verb>/", views.commission_action, name="commission-action"),
]
