"""The MDF API and portal: the isolation matrix (every partner role × every business model against
another partner's allocation, request, claim, proof file, campaign and asset), anonymous access, role
rights, and constant query counts for every new list."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mdf import services
from mdf.models import Campaign, ClaimFile, FundClaim, FundRequest
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.mdf import (
    FundAllocationFactory,
    approved_request,
    finance_staff,
    marketing_staff,
    proof,
    submitted_claim,
)

pytestmark = pytest.mark.django_db

REQUEST_ACTIONS = {"submit": {}, "approve": {}, "reject": {"reason": "x"}, "return": {"reason": "x"}, "cancel": {}}
CLAIM_ACTIONS = {
    "submit": {},
    "approve": {},
    "reject": {"reason": "x"},
    "return": {"reason": "x"},
    "mark-paid": {"payment_reference": "P-1"},
}


def theirs():
    """Another partner (partner-led marketing) with one of everything."""
    other = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    marketer = partner_user(other, PartnerRole.MARKETING)
    allocation = FundAllocationFactory(partner=other)
    fund_request = approved_request(other, user=marketer, allocation=allocation)
    claim = submitted_claim(fund_request, user=marketer)
    campaign = services.campaign_create(
        user=marketer, name="Their campaign", starts_on=fund_request.starts_on, ends_on=fund_request.ends_on
    )
    asset = services.asset_create(user=marketer, title="Their flyer", body_html="<p>{partner_name}</p>")
    return {
        "allocation": allocation,
        "request": fund_request,
        "claim": claim,
        "file": claim.files.get(),
        "campaign": campaign,
        "asset": asset,
    }


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_isolation_matrix(business_model, role, client):
    mine = PartnerFactory(business_model=business_model)
    user = partner_user(mine, role)
    own_allocation = FundAllocationFactory(partner=mine)
    other = theirs()
    api = api_as(user)

    def ids(url):
        response = api.get(url + "?page_size=100")
        assert response.status_code == 200, url
        return {row["id"] for row in response.json()["results"]}

    assert other["allocation"].pk not in ids("/api/v1/mdf-allocations/")
    assert own_allocation.pk in ids("/api/v1/mdf-allocations/")
    assert other["request"].pk not in ids("/api/v1/fund-requests/")
    assert other["claim"].pk not in ids("/api/v1/fund-claims/")
    assert other["campaign"].pk not in ids("/api/v1/campaigns/")
    assert other["asset"].pk not in ids("/api/v1/assets/")

    for base, key, actions in (
        ("/api/v1/mdf-allocations/", "allocation", {"approve": {}}),
        ("/api/v1/fund-requests/", "request", REQUEST_ACTIONS),
        ("/api/v1/fund-claims/", "claim", CLAIM_ACTIONS),
        ("/api/v1/campaigns/", "campaign", {"leads": {"company_name": "X", "country": "US"}}),
        ("/api/v1/assets/", "asset", {"versions": {"body_html": "<p>x</p>"}}),
    ):
        url = f"{base}{other[key].pk}/"
        assert api.get(url).status_code == 404, url
        assert api.put(url, {"title": "X"}).status_code == 404, url
        assert api.patch(url, {"title": "X"}).status_code == 404, url
        assert api.delete(url).status_code == 404, url
        for name, payload in actions.items():
            assert api.post(f"{url}{name}/", payload, format="json").status_code == 404, (url, name)
    asset_url = f"/api/v1/assets/{other['asset'].pk}/render/"
    assert api.get(asset_url).status_code == 404
    assert api.get(asset_url + "?to=pdf").status_code == 404
    claim_url = f"/api/v1/fund-claims/{other['claim'].pk}/files/"
    assert api.get(claim_url).status_code == 404
    assert api.get(f"{claim_url}{other['file'].pk}/").status_code == 404
    assert api.get(f"{claim_url}{other['file'].pk}/download/").status_code == 404
    assert api.post(claim_url, {"file": proof()}, format="multipart").status_code == 404
    # Writes that name their objects: a claim on their request, a campaign funded by it.
    response = api.post(
        "/api/v1/fund-claims/",
        {"fund_request": other["request"].pk, "vendor": "V", "invoice_number": "1", "invoice_date": "2026-01-01",
         "amount": "10"},
        format="json",
    )  # fmt: skip
    assert response.status_code in (400, 403)
    assert FundClaim.objects.filter(fund_request=other["request"]).count() == 1
    other["request"].refresh_from_db()
    assert other["request"].status == "approved" and ClaimFile.objects.count() == 1

    # The portal answers the same.
    client.force_login(user)
    for url in (
        f"/portal/marketing/requests/{other['request'].pk}/",
        f"/portal/marketing/claims/{other['claim'].pk}/",
        f"/portal/marketing/claims/{other['claim'].pk}/files/{other['file'].pk}/",
        f"/portal/marketing/collateral/{other['asset'].pk}/",
        f"/portal/marketing/collateral/{other['asset'].pk}/render.pdf",
    ):
        assert client.get(url).status_code == 404, url
    for name in REQUEST_ACTIONS:
        assert (
            client.post(f"/portal/marketing/requests/{other['request'].pk}/{name}/", {"reason": "x"}).status_code == 404
        )
    for name in CLAIM_ACTIONS:
        assert client.post(f"/portal/marketing/claims/{other['claim'].pk}/{name}/", {"reason": "x"}).status_code == 404
    assert client.post(f"/portal/marketing/requests/{other['request'].pk}/claims/", {}).status_code == 404
    assert client.post(f"/portal/marketing/claims/{other['claim'].pk}/files/", {}).status_code == 404
    for url in ("/portal/marketing/", "/portal/marketing/requests/", "/portal/marketing/claims/",
                "/portal/marketing/collateral/", "/portal/marketing/campaigns/"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        body = page.content.decode()
        assert other["request"].reference not in body and other["claim"].reference not in body, url
        assert "Their campaign" not in body and "Their flyer" not in body, url


def test_channel_manager_sees_only_granted_partners():
    other = theirs()
    mine = PartnerFactory()
    FundAllocationFactory(partner=mine)
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[mine])
    api = api_as(manager)
    assert api.get(f"/api/v1/fund-requests/{other['request'].pk}/").status_code == 404
    assert api.get(f"/api/v1/fund-claims/{other['claim'].pk}/").status_code == 404
    assert api.get(f"/api/v1/mdf-allocations/{other['allocation'].pk}/").status_code == 404


def test_anonymous_is_401_and_redirected(api, client):
    for url in ("/api/v1/mdf-allocations/", "/api/v1/fund-requests/", "/api/v1/fund-claims/",
                "/api/v1/campaigns/", "/api/v1/assets/"):  # fmt: skip
        assert api.get(url).status_code == 401, url
    for url in ("/portal/marketing/", "/portal/marketing/claims/", "/portal/marketing/collateral/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_role_rights():
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    FundAllocationFactory(partner=partner)
    marketer = partner_user(partner, PartnerRole.MARKETING)
    partner_admin = partner_user(partner, PartnerRole.ADMIN)
    rep = partner_user(partner, PartnerRole.REP)
    marketing, finance = marketing_staff(), finance_staff()
    sales = parent_user(ParentRole.SALES)
    today = timezone.localdate()
    payload = {"title": "Event", "activity_type": "event", "plan": "p", "starts_on": str(today - timedelta(days=3)),
               "ends_on": str(today - timedelta(days=2)), "requested_amount": "500.00", "submit": True}  # fmt: skip
    # A rep cannot request funds, nor approve anything.
    assert api_as(rep).post("/api/v1/fund-requests/", payload, format="json").status_code == 403
    created = api_as(marketer).post("/api/v1/fund-requests/", payload, format="json")
    assert created.status_code == 201, created.json()
    fr_url = f"/api/v1/fund-requests/{created.json()['id']}/"
    for user in (marketer, partner_admin, finance, sales):
        response = api_as(user).post(f"{fr_url}approve/", {}, format="json")
        assert response.status_code in (403, 404), user.username
    assert FundRequest.objects.get().status == "submitted"
    response = api_as(marketing).post(f"{fr_url}approve/", {"amount": "400.00", "reason": "Budget"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["approved_amount"] == "400.00"

    # Claims: the partner submits; marketing approves; only finance pays.
    claim = services.fund_claim_create(
        user=marketer, fund_request=FundRequest.objects.get(), vendor="V", invoice_number="A-1",
        invoice_date=today - timedelta(days=2), amount="300.00", files=[proof()], submit=True,
    )  # fmt: skip
    cl_url = f"/api/v1/fund-claims/{claim.pk}/"
    assert api_as(rep).post(f"{cl_url}approve/", {}, format="json").status_code in (403, 404)
    assert api_as(partner_admin).post(f"{cl_url}approve/", {}, format="json").status_code == 403
    assert api_as(finance).post(f"{cl_url}approve/", {}, format="json").status_code == 403
    assert api_as(marketing).post(f"{cl_url}approve/", {}, format="json").status_code == 200
    assert api_as(marketing).post(f"{cl_url}mark-paid/", {"payment_reference": "X"}, format="json").status_code == 403
    assert (
        api_as(partner_admin).post(f"{cl_url}mark-paid/", {"payment_reference": "X"}, format="json").status_code == 403
    )
    paid = api_as(finance).post(f"{cl_url}mark-paid/", {"payment_reference": "PAY-7"}, format="json")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_bad_input_is_400_with_field_errors():
    partner = PartnerFactory()
    FundAllocationFactory(partner=partner)
    marketer = partner_user(partner, PartnerRole.MARKETING)
    api = api_as(marketer)
    bad = api.post("/api/v1/fund-requests/", {"title": "x", "bogus": 1}, format="json")
    assert bad.status_code == 400 and bad.json()["bogus"] == ["Unknown field."]
    missing = api.post("/api/v1/fund-requests/", {"title": "x"}, format="json")
    assert missing.status_code == 400 and {"plan", "starts_on", "requested_amount"} <= set(missing.json())
    backwards = {"title": "Event", "activity_type": "event", "plan": "p", "starts_on": "2026-02-01",
                 "ends_on": "2026-01-02", "requested_amount": "500.00"}  # fmt: skip
    response = api.post("/api/v1/fund-requests/", backwards, format="json")
    assert response.status_code == 400 and "ends_on" in response.json()
    assert FundRequest.objects.count() == 0


def _count(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("who", ["partner", "parent"])
def test_list_query_counts_are_constant(who):
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    marketer = partner_user(partner, PartnerRole.MARKETING)
    user = marketer if who == "partner" else parent_user(ParentRole.ADMIN, superuser=True)
    api = api_as(user)
    allocation = FundAllocationFactory(partner=partner, amount="100000.00")
    fund_request = approved_request(partner, user=marketer, allocation=allocation)
    draft = services.fund_claim_create(
        user=marketer, fund_request=fund_request, vendor="V", invoice_number="D-0", amount="10.00",
        invoice_date=fund_request.ends_on, files=[proof()],
    )  # fmt: skip
    services.campaign_create(user=marketer, name="C0", starts_on=fund_request.starts_on, ends_on=fund_request.ends_on)
    services.asset_create(user=marketer, title="A0", body_html="<p>x</p>")
    urls = ["/api/v1/mdf-allocations/", "/api/v1/fund-requests/", "/api/v1/fund-claims/", "/api/v1/campaigns/",
            "/api/v1/assets/", f"/api/v1/fund-claims/{draft.pk}/files/"]  # fmt: skip
    for url in urls:
        _count(api, url)  # warm up: the caller's actor is resolved once per user object
    small = {url: _count(api, url) for url in urls}
    for n in range(1, 6):
        FundAllocationFactory(partner=partner)
        fr = approved_request(partner, user=marketer, allocation=allocation, title=f"R{n}")
        submitted_claim(fr, user=marketer, amount="10.00")
        services.fund_claim_file_add(user=marketer, claim=draft, file=proof())
        services.campaign_create(user=marketer, name=f"C{n}", starts_on=fr.starts_on, ends_on=fr.ends_on)
        services.asset_create(user=marketer, title=f"A{n}", body_html="<p>x</p>")
    for url in urls:
        queries, count = _count(api, url)
        assert queries == small[url][0], (url, queries, small[url][0])
        assert count > small[url][1], url
    print("query counts", who, {url: small[url][0] for url in urls})


def test_campaigns_visible_to_fed_partner_only():
    marketing = marketing_staff()
    fed = PartnerFactory(business_model=BusinessModel.REFERRAL)
    unfed = PartnerFactory(business_model=BusinessModel.REFERRAL)
    campaign = services.campaign_create(
        user=marketing, name="Spring launch", starts_on="2026-03-01", ends_on="2026-03-31", lead_handling="distribute"
    )
    lead = services.campaign_lead_create(user=parent_user(ParentRole.ADMIN, superuser=True), campaign=campaign,
                                         company_name="Globex", country="US")  # fmt: skip
    assert lead.source == "campaign" and lead.campaign_id == campaign.pk
    assert Campaign.objects.for_partner(fed.pk).count() == 0
    lead.partner = fed
    lead.save(update_fields=["partner"])
    admin_fed = partner_user(fed, PartnerRole.ADMIN)
    admin_unfed = partner_user(unfed, PartnerRole.ADMIN)
    assert api_as(admin_fed).get(f"/api/v1/campaigns/{campaign.pk}/").json()["results"]["leads"] == 1
    assert api_as(admin_unfed).get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
