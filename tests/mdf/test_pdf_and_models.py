"""The four marketing models read from the agreement's marketing dimension (what a partner may request,
use and see), and the PDF output: a co-branded asset carries the parent and the partner's contact
details; a white-label partner's asset and quote PDFs carry no trace of the parent in their text or
metadata (checked on the text pypdf extracts)."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from mdf import services
from mdf.models import Asset, AssetDownload
from partners.access import PartnerRole
from partners.agreement import BusinessModel, MarketingModel
from partners.models import Territory
from tests.conftest import BUSINESS_MODELS, api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.factories.mdf import FundAllocationFactory, marketing_staff

pytestmark = pytest.mark.django_db
PARENT = settings.PARENT_COMPANY_NAME

# What each business model's preset marketing model lets the partner do.
EXPECTED = {
    BusinessModel.REFERRAL: {"request": False, "own_materials": False, "own_assets": False, "campaigns": False},
    BusinessModel.REGISTRATION_PARENT: {
        "request": True,
        "own_materials": False,
        "own_assets": False,
        "campaigns": False,
    },
    BusinessModel.REGISTRATION_RETENTION: {
        "request": True,
        "own_materials": True,
        "own_assets": True,
        "campaigns": True,
    },
    BusinessModel.DUAL: {"request": True, "own_materials": True, "own_assets": True, "campaigns": True},
    BusinessModel.WHITE_LABEL: {"request": True, "own_materials": True, "own_assets": True, "campaigns": True},
}


def pdf_text(content: bytes) -> tuple[str, dict]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, {k: str(v) for k, v in (reader.metadata or {}).items()}


@pytest.fixture
def library():
    marketing = marketing_staff()
    co_branded = services.asset_create(
        user=marketing, title="Cloud backup brochure", kind="brochure",
        body_html="<h1>Backup with {provider_name}</h1><p>Call {contact_name} at {partner_name}: {contact_email}</p>",
    )  # fmt: skip
    safe = services.asset_create(
        user=marketing, title="Storage datasheet", kind="datasheet", white_label_safe=True,
        body_html="<h1>Storage by {provider_name}</h1><p>Ask {partner_name}, {contact_email}</p>",
    )  # fmt: skip
    gold_de = services.asset_create(
        user=marketing, title="Gold DACH kit", body_html="<p>x</p>", countries=["DE"], min_tier=None,
        marketing_models=[MarketingModel.PARTNER_LED],
    )  # fmt: skip
    return {"co_branded": co_branded, "safe": safe, "gold_de": gold_de}


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_what_each_marketing_model_allows(business_model, library):
    partner = PartnerFactory(business_model=business_model)
    Territory.objects.create(partner=partner, country="DE")
    FundAllocationFactory(partner=partner)
    user = partner_user(partner, PartnerRole.MARKETING)
    api = api_as(user)
    expected = EXPECTED[business_model]
    today = timezone.localdate()
    request = {"title": "Event", "activity_type": "event", "plan": "p", "starts_on": str(today),
               "ends_on": str(today + timedelta(days=1)), "requested_amount": "100.00"}  # fmt: skip
    response = api.post("/api/v1/fund-requests/", request, format="json")
    assert response.status_code == (201 if expected["request"] else 403), response.json()
    own = api.post("/api/v1/fund-requests/", request | {"uses_own_materials": True}, format="json")
    if expected["request"]:
        assert own.status_code == (201 if expected["own_materials"] else 400)
        if not expected["own_materials"]:
            assert "uses_own_materials" in own.json()
    asset = api.post("/api/v1/assets/", {"title": "Our flyer", "body_html": "<p>{partner_name}</p>"}, format="json")
    assert asset.status_code == (201 if expected["own_assets"] else 403)
    campaign = api.post(
        "/api/v1/campaigns/", {"name": "Ours", "starts_on": str(today), "ends_on": str(today)}, format="json"
    )
    assert campaign.status_code == (201 if expected["campaigns"] else 403)

    listed = {row["title"] for row in api.get("/api/v1/assets/").json()["results"]}
    model = partner.agreement.marketing_model
    assert ("Storage datasheet" in listed) is True
    # A white-label (own brand) partner never gets a parent-branded asset.
    assert ("Cloud backup brochure" in listed) == (model != MarketingModel.PARTNER_BRAND)
    # Entitlement by marketing model and territory.
    assert ("Gold DACH kit" in listed) == (model == MarketingModel.PARTNER_LED)


def test_entitlement_by_tier_and_territory(library):
    from partners.models import ProgramTier

    platinum, _ = ProgramTier.objects.get_or_create(name="Platinum", defaults={"rank": 9})
    asset = library["gold_de"]
    Asset.objects.filter(pk=asset.pk).update(min_tier=platinum)
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    Territory.objects.create(partner=partner, country="DE")
    api = api_as(partner_user(partner, PartnerRole.ADMIN))
    assert api.get(f"/api/v1/assets/{asset.pk}/").status_code == 404  # Gold < Platinum
    partner.tier = platinum
    partner.save()
    api = api_as(partner_user(partner, PartnerRole.REP))
    assert api.get(f"/api/v1/assets/{asset.pk}/").status_code == 200
    Territory.objects.filter(partner=partner).delete()
    Territory.objects.create(partner=partner, country="US")
    assert api_as(partner_user(partner, PartnerRole.REP)).get(f"/api/v1/assets/{asset.pk}/").status_code == 404


def test_co_branded_pdf_carries_parent_partner_and_contact(library):
    contoso = PartnerFactory(name="Contoso Ltd", business_model=BusinessModel.REGISTRATION_PARENT)
    rep = partner_user(contoso, PartnerRole.REP, first_name="Dana", last_name="Reyes", email="dana@contoso.test")
    response = api_as(rep).get(f"/api/v1/assets/{library['co_branded'].pk}/render/?to=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text, meta = pdf_text(response.content)
    assert "Backup with " + PARENT in text
    assert "Contoso Ltd" in text and "Dana Reyes" in text and "dana@contoso.test" in text
    assert meta["/Author"] == "Contoso Ltd"
    html = api_as(rep).get(f"/api/v1/assets/{library['co_branded'].pk}/render/").content.decode()
    assert "{partner_name}" not in html and "Contoso Ltd" in html
    assert AssetDownload.objects.filter(partner=contoso, format="pdf").count() == 1


def test_white_label_pdf_has_no_trace_of_the_parent(library, client):
    wingtip = PartnerFactory(
        name="Wingtip Toys", display_name="Wingtip Cloud", business_model=BusinessModel.WHITE_LABEL
    )
    admin = partner_user(wingtip, PartnerRole.ADMIN, first_name="Lee", last_name="Park", email="lee@wingtip.test")
    api = api_as(admin)
    assert api.get(f"/api/v1/assets/{library['co_branded'].pk}/render/?to=pdf").status_code == 404
    response = api.get(f"/api/v1/assets/{library['safe'].pk}/render/?to=pdf")
    assert response.status_code == 200
    text, meta = pdf_text(response.content)
    assert "Storage by Wingtip Cloud" in text and "lee@wingtip.test" in text
    for value in [text, *meta.values()]:
        assert PARENT.lower() not in value.lower() and "helios" not in value.lower(), value
    assert meta["/Author"] == "Wingtip Cloud"
    client.force_login(admin)
    portal = client.get(f"/portal/marketing/collateral/{library['safe'].pk}/render.pdf")
    portal_text, portal_meta = pdf_text(portal.content)
    assert "Wingtip Cloud" in portal_text and PARENT not in portal_text + str(portal_meta)


def test_white_label_safe_assets_cannot_name_the_parent():
    with pytest.raises(Exception) as exc:
        services.asset_create(
            user=marketing_staff(), title="Datasheet", white_label_safe=True, body_html=f"<p>{PARENT} inside</p>"
        )
    assert "white_label_safe" in str(exc.value)


def test_quote_pdf_white_label_and_co_branded():
    from tests.factories.quotes import quote_with_line

    wingtip = PartnerFactory(display_name="Wingtip Cloud", business_model=BusinessModel.WHITE_LABEL)
    user = partner_user(wingtip, PartnerRole.ADMIN)
    quote = quote_with_line(wingtip, customer_of(wingtip, owner=user, owner_partner=wingtip), created_by=user)
    response = api_as(user).get(f"/api/v1/quotes/{quote.pk}/document/pdf/")
    assert response.status_code == 200, response.content[:200]
    text, meta = pdf_text(response.content)
    assert "Wingtip Cloud" in text and quote.number in text
    for value in [text, *meta.values()]:
        assert "helios" not in value.lower() and PARENT.lower() not in value.lower()

    fabrikam = PartnerFactory(name="Fabrikam GmbH", business_model=BusinessModel.REGISTRATION_RETENTION)
    seller = partner_user(fabrikam, PartnerRole.ADMIN)
    quote = quote_with_line(fabrikam, customer_of(fabrikam, owner=seller), created_by=seller)
    from django.test import Client

    client = Client()
    client.force_login(seller)
    response = client.get(f"/portal/quotes/{quote.pk}/document.pdf")
    assert response.status_code == 200
    text, meta = pdf_text(response.content)
    assert PARENT in text and "Fabrikam GmbH" in text
    other = partner_user(PartnerFactory(), PartnerRole.ADMIN)
    client.force_login(other)
    assert client.get(f"/portal/quotes/{quote.pk}/document.pdf").status_code == 404
    assert api_as(other).get(f"/api/v1/quotes/{quote.pk}/document/pdf/").status_code == 404


def test_parent_previews_for_a_partner_it_sees():
    marketing = marketing_staff()
    asset = services.asset_create(user=marketing, title="Flyer", body_html="<p>{partner_name}</p>")
    partner = PartnerFactory(name="Tailspin Toys", business_model=BusinessModel.DUAL)
    api = api_as(marketing)
    html = api.get(f"/api/v1/assets/{asset.pk}/render/?partner={partner.pk}").content.decode()
    assert "Tailspin Toys" in html
    manager = parent_user("Channel manager", partners=[])
    assert api_as(manager).get(f"/api/v1/assets/{asset.pk}/render/?partner={partner.pk}").status_code == 404
