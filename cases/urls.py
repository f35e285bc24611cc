"""This app's portal pages, included under /portal/cases/ with the namespace "cases"."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("new/", views.case_create, name="case-create"),
    path("queues/", views.queue_overview, name="queue-list"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    path("<int:pk>/sla/", views.case_sla, name="case-sla"),
    path("<int:pk>/comments/", views.comment_add, name="comment-add"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment-add"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment-download"),
    path("<int:pk>/<slug:name>/", views.case_action, name="case-action"),
]
