from django.conf import settings

from .access import actor_of


def portal(request):
    """The caller's actor and the brand to show: a white-label partner's users see only their partner's."""
    actor = actor_of(getattr(request, "user", None))
    brand = {"name": settings.PARENT_COMPANY_NAME, "logo_url": settings.PARENT_COMPANY_LOGO_URL, "color": "#1a5fb4"}
    if actor.partner is not None and not actor.agreement.parent_brand_visible:
        partner = actor.partner
        brand = {
            "name": partner.brand_name,
            "logo_url": partner.logo_url,
            "color": partner.brand_color or "#333333",
        }
    parent_name = (
        "" if actor.partner is not None and not actor.agreement.parent_brand_visible else settings.PARENT_COMPANY_NAME
    )
    return {"actor": actor, "brand": brand, "parent_company_name": parent_name}
