from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import health
from .security.login import AdminLoginForm

admin.site.site_header = f"{settings.PARENT_COMPANY_NAME} partner program"
admin.site.site_title = "PRM admin"
admin.site.index_title = "Channel administration"
admin.site.login_form = AdminLoginForm  # a 256-character username is a form error, not a 500

handler500 = "partners.account_views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("prm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's script as a file: the docs pass the CSP without inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("portal/deals/", include("deals.urls")),
    path("portal/quotes/", include("quotes.urls")),
    path("portal/cases/", include("cases.urls")),
    path("portal/renewals/", include("renewals.urls")),
    path("portal/marketing/", include("mdf.urls")),
    path("portal/analytics/", include("analytics.urls")),
    path("portal/", include("partners.urls")),
]

handler404 = "prm.security.handlers.not_found"
handler500 = "prm.security.handlers.server_error"
