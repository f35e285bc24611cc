"""This app's REST routes, included under /api/v1/ by prm/api/urls.py."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("deal-registrations", views.DealRegistrationViewSet, basename="deal-registration")
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("commissions", views.CommissionViewSet, basename="commission")

urlpatterns = router.urls
