from .access import actor_of
from .branding import brand_for_request


def portal(request):
    """The caller's actor and the brand to show: a white-label partner's users see only their partner's,
    on the pages before login too (partners.branding)."""
    actor = actor_of(getattr(request, "user", None))
    brand = brand_for_request(request)
    return {
        "actor": actor,
        "brand": {"name": brand.name, "logo_url": brand.logo_url, "color": brand.color},
        "parent_company_name": brand.parent_company_name,
    }
