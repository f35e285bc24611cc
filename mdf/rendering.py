"""Collateral rendered for one partner: the asset's placeholders filled with the partner's name, logo
and contact details, inside a page whose brand follows the agreement. A partner whose customers may
know the parent gets the parent's asset co-branded ("presented by" the partner); a white-label
partner (its customers know only the partner) gets a page that carries the partner's brand only, in
its text and its metadata, and `{provider_name}` becomes the partner's own name."""

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import escape

from partners.agreement import MarketingModel

PLACEHOLDER = re.compile(r"\{(partner_name|partner_logo|partner_website|contact_name|contact_email|provider_name)\}")


def brand_for(partner) -> dict:
    """Who the rendered page names: the partner always; the parent unless the agreement hides it."""
    agreement = partner.agreement
    parent_hidden = not agreement.parent_brand_visible or agreement.marketing_model == MarketingModel.PARTNER_BRAND
    partner_brand = {
        "name": partner.brand_name,
        "logo_url": partner.logo_url,
        "website": partner.website,
        "color": partner.brand_color or "#333333",
    }
    if parent_hidden:
        return {"partner": partner_brand, "parent": None, "provider_name": partner.brand_name}
    parent_brand = {"name": settings.PARENT_COMPANY_NAME, "logo_url": settings.PARENT_COMPANY_LOGO_URL}
    return {"partner": partner_brand, "parent": parent_brand, "provider_name": settings.PARENT_COMPANY_NAME}


def contact_for(user) -> dict:
    name = (user.get_full_name() or user.get_username()) if user is not None else ""
    return {"name": name, "email": getattr(user, "email", "") or ""}


def fill_placeholders(body_html: str, *, brand: dict, contact: dict) -> str:
    partner = brand["partner"]
    logo = (
        f'<img class="partner-logo" src="{escape(partner["logo_url"])}" alt="{escape(partner["name"])}">'
        if partner["logo_url"]
        else ""
    )
    values = {
        "partner_name": escape(partner["name"]),
        "partner_logo": logo,
        "partner_website": escape(partner["website"]),
        "contact_name": escape(contact["name"]),
        "contact_email": escape(contact["email"]),
        "provider_name": escape(brand["provider_name"]),
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body_html)


def render_asset_html(*, asset, version, partner, user) -> str:
    """The asset as a standalone HTML page for `partner` (None: the parent's own preview)."""
    if partner is None:
        brand = {
            "partner": {
                "name": settings.PARENT_COMPANY_NAME,
                "logo_url": settings.PARENT_COMPANY_LOGO_URL,
                "website": "",
                "color": "#1a5fb4",
            },
            "parent": None,
            "provider_name": settings.PARENT_COMPANY_NAME,
        }
    else:
        brand = brand_for(partner)
    contact = contact_for(user)
    body = fill_placeholders(version.body_html, brand=brand, contact=contact) if asset.co_branded else version.body_html
    return render_to_string(
        "mdf/asset_document.html",
        {"asset": asset, "version": version, "body": body, "brand": brand, "contact": contact},
    )
