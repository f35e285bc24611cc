"""/api/v1/: each domain app contributes its routes."""

from django.urls import include, path

from .auth import TokenView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("partners.api.urls")),
    path("", include("deals.api.urls")),
    path("", include("quotes.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("renewals.api.urls")),
    path("", include("mdf.api.urls")),
    path("", include("analytics.api.urls")),
]
