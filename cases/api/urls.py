"""This app's REST routes, included under /api/v1/ by prm/api/urls.py."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register(r"cases/(?P<case_pk>[^/.]+)/comments", views.CaseCommentViewSet, basename="case-comment")
router.register(r"cases/(?P<case_pk>[^/.]+)/attachments", views.CaseAttachmentViewSet, basename="case-attachment")
router.register("case-queues", views.CaseQueueViewSet, basename="case-queue")

urlpatterns = router.urls
