"""The person's own pages: sign-in at a partner's own address, logout back to it, notifications and
their preferences, time zone; and the error pages in the right brand."""

import re
import zoneinfo

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.http import require_POST

from . import notifications
from .access import actor_of
from .branding import BRAND_COOKIE, hides_parent, parent_brand, partner_for_slug
from .models import Notification, NotificationChannel, NotificationPreference, PersonalSettings
from .views import paginate, portal_view

COOKIE_AGE = 365 * 24 * 3600
TIME_ZONES = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


class PartnerLoginView(auth_views.LoginView):
    """A partner's sign-in page at /portal/p/<slug>/login/, in its brand; remembers the partner so
    logging out (or a session running out) comes back here."""

    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        self.partner = partner_for_slug(kwargs["slug"])
        if self.partner is None:
            raise Http404
        request.brand_slug = self.partner.slug
        response = super().dispatch(request, *args, **kwargs)
        response.set_cookie(BRAND_COOKIE, self.partner.slug, max_age=COOKIE_AGE, samesite="Lax", httponly=True)
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["partner_page"] = self.partner
        return context


class BrandedLogoutView(auth_views.LogoutView):
    """After logout, a partner's person returns to their partner's sign-in page."""

    def post(self, request, *args, **kwargs):
        actor = actor_of(request.user)
        partner = actor.partner
        response = super().post(request, *args, **kwargs)
        if partner is not None and hides_parent(partner):
            response = redirect("portal:partner-login", slug=partner.slug)
            response.set_cookie(BRAND_COOKIE, partner.slug, max_age=COOKIE_AGE, samesite="Lax", httponly=True)
        elif partner is None:
            response.delete_cookie(BRAND_COOKIE)
        return response


def partner_favicon(request, slug):
    from .branding import favicon_svg

    partner = partner_for_slug(slug)
    if partner is None or not hides_parent(partner):
        return redirect(parent_brand().favicon_url)
    response = HttpResponse(favicon_svg(partner), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


def brand_css(request):
    """The brand colour as a stylesheet (no inline style, so a strict Content-Security-Policy holds)."""
    colour = request.GET.get("c", "")
    colour = colour if HEX_COLOUR.match(colour) else "#1a5fb4"
    response = HttpResponse(f":root {{ --brand: {colour}; }}\n", content_type="text/css")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@portal_view
def notification_list(request):
    queryset = Notification.objects.for_user(request.user)
    show = request.GET.get("show", "")
    if show == "unread":
        queryset = queryset.unread()
    return render(request, "portal/notifications.html", {"page": paginate(request, queryset), "show": show})


@portal_view
@require_POST
def notification_read(request):
    ids = request.POST.getlist("id")
    done = notifications.mark_read(user=request.user, notification_ids=[i for i in ids if i.isdigit()] if ids else None)
    if request.POST.get("open"):
        opened = Notification.objects.for_user(request.user).filter(pk=request.POST["open"]).first()
        # Notification links are the portal's own paths (never another site's, not even "//host").
        if opened is not None and opened.url.startswith("/") and not opened.url.startswith("//"):
            return redirect(opened.url)
    messages.success(request, f"{done} notification{'s' if done != 1 else ''} marked as read.")
    return redirect("portal:notifications")


@portal_view
def personal_settings(request):
    current, _ = PersonalSettings.objects.get_or_create(user=request.user)
    chosen = dict(NotificationPreference.objects.for_user(request.user).values_list("kind", "channel"))
    errors = {}
    if request.method == "POST":
        zone = request.POST.get("time_zone", "")
        if zone not in TIME_ZONES:
            errors["time_zone"] = "Choose a time zone from the list."
        else:
            current.time_zone = zone
            current.save(update_fields=["time_zone"])
            notifications.set_preferences(
                user=request.user, channels={kind: request.POST.get(f"kind-{kind}", "") for kind in notifications.KINDS}
            )
            messages.success(request, "Your settings are saved.")
            return redirect("portal:settings")
    kinds = [(kind, label, chosen.get(kind, NotificationChannel.EMAIL)) for kind, label in notifications.KINDS.items()]
    return render(
        request,
        "portal/settings.html",
        {
            "current": current,
            "time_zones": TIME_ZONES,
            "kinds": kinds,
            "channels": NotificationChannel.choices,
            "errors": errors,
        },
    )


def server_error(request):
    """500 in the caller's brand when it can be worked out, else a plain page naming nobody."""
    try:
        from .branding import brand_for_request

        brand = brand_for_request(request)
    except Exception:  # noqa: BLE001 - the error page must render whatever broke
        brand = {"name": "Partner portal", "color": "#333333", "favicon_url": "", "logo_url": ""}
    return HttpResponseServerError(loader.get_template("500.html").render({"brand": brand}))
