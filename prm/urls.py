from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import health

admin.site.site_header = f"{settings.PARENT_COMPANY_NAME} partner program"
admin.site.site_title = "PRM admin"
admin.site.index_title = "Channel administration"

handler500 = "partners.account_views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("prm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("portal/deals/", include("deals.urls")),
    path("portal/quotes/", include("quotes.urls")),
    path("portal/cases/", include("cases.urls")),
    path("portal/", include("partners.urls")),
]
