"""This app's REST routes, included under /api/v1/ by prm/api/urls.py."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("mdf-allocations", views.FundAllocationViewSet, basename="mdf-allocation")
router.register("fund-requests", views.FundRequestViewSet, basename="fund-request")
router.register("fund-claims", views.FundClaimViewSet, basename="fund-claim")
router.register(r"fund-claims/(?P<claim_pk>[^/.]+)/files", views.ClaimFileViewSet, basename="fund-claim-file")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("assets", views.AssetViewSet, basename="asset")

urlpatterns = router.urls
