"""The printable quote document (HTML with print CSS). Its brand follows the quote's partner agreement,
whoever looks at it: a white-label partner's quote carries only the partner's brand; a partner the
customer must not see (registration, parent retains) is left off; otherwise both appear."""

from django.conf import settings
from django.template.loader import render_to_string

from partners.agreement import CustomerAwareness


def document_brand(partner) -> dict:
    agreement = partner.agreement
    partner_brand = {
        "name": partner.brand_name,
        "logo_url": partner.logo.url if partner.logo else "",
        "color": partner.brand_color or "#333333",
    }
    if not agreement.parent_brand_visible:
        return {"issuer": partner_brand, "presented_by": None}
    parent_brand = {
        "name": settings.PARENT_COMPANY_NAME,
        "logo_url": settings.PARENT_COMPANY_LOGO_URL,
        "color": "#1a5fb4",
    }
    presented_by = None if agreement.customer_awareness == CustomerAwareness.PARTNER_INVISIBLE else partner_brand
    return {"issuer": parent_brand, "presented_by": presented_by}


def render_quote_document(quote, request=None) -> str:
    return render_to_string(
        "quotes/document.html",
        {"quote": quote, "lines": list(quote.lines.all()), "doc": document_brand(quote.partner)},
        request=None,
    )
