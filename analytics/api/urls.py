"""This app's REST routes, included under /api/v1/ by prm/api/urls.py."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("scorecards", views.ScorecardViewSet, basename="scorecard")
router.register("fraud-alerts", views.FraudAlertViewSet, basename="fraud-alert")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("channel-metrics", views.ChannelMetricsViewSet, basename="channel-metrics")

urlpatterns = router.urls
