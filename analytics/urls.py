"""This app's portal pages, included under /portal/analytics/ with the namespace "analytics"."""

from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/<int:partner_id>/", views.scorecard, name="partner-scorecard"),
    path("channel/", views.channel, name="channel"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/<slug:verb>/", views.alert_action, name="alert-action"),
    path("security/", views.security, name="security"),
    path("audit/", views.audit, name="audit"),
]
