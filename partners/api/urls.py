from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("partners", views.PartnerViewSet, basename="partner")
router.register("partner-users", views.PartnerUserViewSet, basename="partner-user")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("customer-claims", views.CustomerClaimViewSet, basename="customer-claim")

urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
