"""This app's REST routes, included under /api/v1/ by prm/api/urls.py."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
