"""Results: leads and opportunities attributed to a campaign (through the lead or the deal registration)
count towards it and towards the fund request that funded it; ROI is against the paid amount. And the
claim bad-input cases through the API: above the remainder, after the deadline → 400, nothing written."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.models import Opportunity
from mdf import services
from mdf.models import FundClaim, FundRequest
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import api_as
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import approved_request, finance_staff, marketing_staff, proof, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded():
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    marketer = partner_user(partner, PartnerRole.MARKETING)
    fr = approved_request(partner, user=marketer, amount="1000.00", percent="100")
    claim = services.fund_claim_approve(user=marketing_staff(), claim=submitted_claim(fr, user=marketer, amount="1000"))
    services.fund_claim_mark_paid(user=finance_staff(), claim=claim, payment_reference="P-1")
    campaign = services.campaign_create(
        user=marketer, name="Webinars", starts_on=fr.starts_on, ends_on=fr.ends_on, fund_request=fr
    )
    return partner, marketer, fr, campaign


def test_results_count_leads_pipeline_won_and_roi(funded):
    partner, marketer, fr, campaign = funded
    seller = partner_user(partner, PartnerRole.ADMIN)  # marketing people do not create leads; sellers do
    won_lead = services.campaign_lead_create(user=seller, campaign=campaign, company_name="Won Co", country="DE")
    open_lead = services.campaign_lead_create(user=seller, campaign=campaign, company_name="Open Co", country="DE")
    for lead, stage, amount in ((won_lead, "closed_won", "5000"), (open_lead, "proposal", "3000")):
        Opportunity.objects.create(
            partner=partner, flow="partner_managed", managed_by="partner", name=lead.company_name, stage=stage,
            amount=Decimal(amount), lead=lead, owner=seller,
        )  # fmt: skip
    # Results count what the caller sees: the partner admin sees every lead; the marketer only its own.
    assert api_as(marketer).get(f"/api/v1/fund-requests/{fr.pk}/").json()["results"]["leads"] == 0
    api = api_as(seller)
    results = api.get(f"/api/v1/fund-requests/{fr.pk}/").json()["results"]
    assert results == {"leads": 2, "pipeline": "3000.00", "won": "5000.00", "roi": "4.00"}
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/").json()["results"] == {
        "leads": 2, "pipeline": "3000.00", "won": "5000.00"
    }  # fmt: skip


def test_attribute_own_lead_only(funded):
    from deals import services as deal_services

    partner, marketer, fr, campaign = funded
    rep = partner_user(partner, PartnerRole.REP)
    lead = deal_services.lead_create(user=rep, company_name="Later Co", country="DE")
    response = api_as(rep).post(f"/api/v1/campaigns/{campaign.pk}/attribute/", {"lead": lead.pk}, format="json")
    assert response.status_code == 200 and response.json()["results"]["leads"] == 1
    lead.refresh_from_db()
    assert lead.campaign_id == campaign.pk
    other = PartnerFactory()
    their_lead = deal_services.lead_create(user=partner_user(other, PartnerRole.REP), company_name="X", country="US")
    response = api_as(rep).post(f"/api/v1/campaigns/{campaign.pk}/attribute/", {"lead": their_lead.pk}, format="json")
    assert response.status_code == 400 and "lead" in response.json()
    their_lead.refresh_from_db()
    assert their_lead.campaign_id is None


def test_claims_above_the_remainder_or_after_the_deadline_are_400_via_the_api():
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    marketer = partner_user(partner, PartnerRole.ADMIN)
    fr = approved_request(partner, user=marketer, amount="100.00", percent="100")
    submitted_claim(fr, user=marketer, amount="100.00")
    api = api_as(marketer)
    draft = services.fund_claim_create(
        user=marketer, fund_request=fr, vendor="V", invoice_number="R-2", invoice_date=timezone.localdate(),
        amount=Decimal("50"), files=[proof()],
    )  # fmt: skip
    response = api.post(f"/api/v1/fund-claims/{draft.pk}/submit/", {}, format="json")
    assert response.status_code == 400 and "amount" in response.json()
    draft.refresh_from_db()
    fr.refresh_from_db()
    assert draft.status == "draft" and fr.reserved == Decimal("100.00")

    late = approved_request(partner, user=marketer, amount="100.00")
    FundRequest.objects.filter(pk=late.pk).update(claim_deadline=timezone.localdate() - datetime.timedelta(days=1))
    payload = {"fund_request": late.pk, "vendor": "V", "invoice_number": "L-1", "amount": "10.00",
               "invoice_date": str(timezone.localdate())}  # fmt: skip
    response = api.post("/api/v1/fund-claims/", payload, format="json")
    assert response.status_code == 400 and "deadline" in response.json()["fund_request"][0]
    assert not FundClaim.objects.filter(fund_request=late).exists()


def test_parent_campaign_leads_are_distributed_or_kept_by_the_campaign(django_capture_on_commit_callbacks):
    from partners.access import ParentRole
    from partners.models import Territory
    from tests.factories import parent_user

    referral = PartnerFactory(business_model=BusinessModel.REFERRAL)
    Territory.objects.get_or_create(partner=referral, country="US")
    marketing = marketing_staff()
    router = parent_user(ParentRole.ADMIN, superuser=True)
    today = timezone.localdate()
    distribute = services.campaign_create(
        user=marketing, name="Launch", lead_handling="distribute", starts_on=today, ends_on=today, countries="us"
    )
    keep = services.campaign_create(
        user=marketing, name="Brand", lead_handling="parent_only", starts_on=today, ends_on=today
    )
    assert distribute.country_list == ["US"]
    with django_capture_on_commit_callbacks(execute=True):  # routing runs after commit
        routed = services.campaign_lead_create(user=router, campaign=distribute, company_name="Routed", country="US")
        kept = services.campaign_lead_create(user=router, campaign=keep, company_name="Kept Co", country="US")
    routed.refresh_from_db()
    kept.refresh_from_db()
    assert (routed.source, routed.status, routed.partner_id) == ("campaign", "offered", referral.pk)
    assert (kept.source, kept.status, kept.partner_id) == ("campaign", "new", None)
    # The referral partner now sees the campaign that fed it, not the one that kept its leads.
    api = api_as(partner_user(referral, PartnerRole.ADMIN))
    assert [row["name"] for row in api.get("/api/v1/campaigns/").json()["results"]] == ["Launch"]
