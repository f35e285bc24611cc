"""Whose brand a page or an email carries. A white-label partner's people (and visitors of its own
sign-in page) see only the partner's name, colour and icon, never the parent's; everyone else sees
the parent's. One place for the portal, the error pages and (for the security work) the emails."""

from __future__ import annotations

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

BRAND_COOKIE = "prm_brand"  # the partner slug whose sign-in page this browser last used
PARENT_COLOR = "#1a5fb4"


def parent_brand() -> dict:
    return {
        "name": settings.PARENT_COMPANY_NAME,
        "logo_url": settings.PARENT_COMPANY_LOGO_URL,
        "color": PARENT_COLOR,
        "favicon_url": static("img/favicon.svg"),
        "login_url": reverse("portal:login"),
        "partner_slug": "",
        "white_label": False,
    }


def partner_brand(partner, *, signed_in: bool = True) -> dict:
    """The partner's own brand (its logo only for signed-in people: logos are access-checked)."""
    return {
        "name": partner.brand_name,
        "logo_url": partner.logo_url if signed_in else "",
        "color": partner.brand_color or "#333333",
        "favicon_url": reverse("portal:partner-favicon", args=[partner.slug]),
        "login_url": reverse("portal:partner-login", args=[partner.slug]),
        "partner_slug": partner.slug,
        "white_label": True,
    }


def hides_parent(partner) -> bool:
    return partner is not None and not partner.agreement.parent_brand_visible


def partner_for_slug(slug: str):
    """The partner a sign-in page or brand cookie names (None if unknown or no longer active)."""
    from .models import Partner

    if not slug:
        return None
    return (
        Partner.objects.select_related("agreement")  # scope-lint: ok (a public sign-in page, brand only)
        .exclude(status="terminated")
        .filter(slug=slug)
        .first()
    )


def brand_for_partner_user(partner) -> dict:
    return partner_brand(partner) if hides_parent(partner) else parent_brand()


def brand_for_user(user) -> dict:
    """The brand a person sees (emails to them too)."""
    from .access import actor_of

    actor = actor_of(user)
    if actor.partner is not None:
        return brand_for_partner_user(actor.partner)
    return parent_brand()


def brand_for_request(request) -> dict:
    """Signed in: the person's brand. Not signed in: the partner of the sign-in page being shown or
    last used in this browser (so its users never see the parent, even after logging out)."""
    from .access import actor_of

    actor = actor_of(getattr(request, "user", None))
    if actor.partner is not None:
        return brand_for_partner_user(actor.partner)
    if actor.is_parent:
        return parent_brand()
    slug = getattr(request, "brand_slug", "") or request.COOKIES.get(BRAND_COOKIE, "")
    partner = partner_for_slug(slug)
    if partner is not None and hides_parent(partner):
        return partner_brand(partner, signed_in=False)
    return parent_brand()


def favicon_svg(partner) -> str:
    """A small icon in the partner's colour with its initial, for its tabs and bookmarks."""
    from django.utils.html import escape

    initial = escape((partner.brand_name or "?")[:1].upper())
    color = escape(partner.brand_color or "#333333")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="7" fill="{color}"/>'
        '<text x="16" y="22" font-family="system-ui, sans-serif" font-size="18" font-weight="700" '
        f'text-anchor="middle" fill="#fff">{initial}</text></svg>'
    )
