"""The printable quote document (HTML with print CSS). Its brand follows the quote's partner agreement,
whoever looks at it: a white-label partner's quote carries only the partner's brand; a partner the
customer must not see (registration, parent retains) is left off; a partner-branded quoting agreement
whose customers may know the parent puts the partner first; otherwise both appear."""

from django.conf import settings
from django.template.loader import render_to_string

from partners.agreement import CustomerAwareness, QuoteAccess


def document_brand(partner) -> dict:
    agreement = partner.agreement
    partner_brand = {
        "name": partner.brand_name,
        "logo_url": partner.logo_url,
        "color": partner.brand_color or "#333333",
    }
    if not agreement.parent_brand_visible:
        return {"issuer": partner_brand, "presented_by": None, "provided_by": None}
    parent_brand = {
        "name": settings.PARENT_COMPANY_NAME,
        "logo_url": settings.PARENT_COMPANY_LOGO_URL,
        "color": "#1a5fb4",
    }
    if agreement.quote_access == QuoteAccess.SELF_SERVICE_BRANDED:
        # Partner-branded quoting where the customer may know the parent: the partner issues it.
        return {"issuer": partner_brand, "presented_by": None, "provided_by": parent_brand}
    presented_by = None if agreement.customer_awareness == CustomerAwareness.PARTNER_INVISIBLE else partner_brand
    return {"issuer": parent_brand, "presented_by": presented_by, "provided_by": None}


def render_quote_document(quote, request=None) -> str:
    return render_to_string(
        "quotes/document.html",
        {
            "quote": quote,
            "lines": list(quote.lines.all()),
            # The partner's own services appear on its documents only (never on an order or provisioning).
            "service_lines": list(quote.service_lines.all()),
            "grand_total": quote.total + quote.services_total,
            "doc": document_brand(quote.partner),
        },
        request=None,
    )


def quote_pdf_response(quote):
    """The quote document as a PDF download; its text and metadata carry the same brand as the HTML."""
    from django.http import HttpResponse

    from prm.pdf import html_to_pdf

    response = HttpResponse(html_to_pdf(render_quote_document(quote)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="quote-{quote.number}.pdf"'
    return response
