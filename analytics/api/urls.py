"""This app's REST routes, included under /api/v1/ by prm/api/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("scorecards", views.ScorecardViewSet, basename="scorecard")
router.register("fraud-alerts", views.FraudAlertViewSet, basename="fraud-alert")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [path("channel-metrics/", views.ChannelMetricsView.as_view(), name="channel-metrics"), *router.urls]
