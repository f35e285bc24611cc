"""This app's portal pages, included under /portal/marketing/ with the namespace "mdf"."""

from django.urls import path

from . import views

app_name = "mdf"

urlpatterns = [
    path("", views.home, name="home"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/claims/", views.claim_create, name="claim-create"),
    path("requests/<int:pk>/<slug:name>/", views.request_action, name="request-action"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/files/", views.claim_file_add, name="claim-file-add"),
    path("claims/<int:pk>/files/<int:file_pk>/", views.claim_file_download, name="claim-file-download"),
    path("claims/<int:pk>/<slug:name>/", views.claim_action, name="claim-action"),
    path("collateral/", views.asset_list, name="asset-list"),
    path("collateral/<int:pk>/", views.asset_detail, name="asset-detail"),
    path("collateral/<int:pk>/render.<str:fmt>", views.asset_render, name="asset-render"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
]
