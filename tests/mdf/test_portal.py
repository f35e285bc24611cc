"""Portal pages: the partner's balance with its deadline and expiring funds, request and claim forms
with uploads, the parent's review queues with the proof beside the claim, budget burn, collateral."""

import datetime

import pytest
from django.utils import timezone

from mdf.models import FundClaim, FundRequest
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.presentation import day
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import (
    FundAllocationFactory,
    FundProgramFactory,
    approved_request,
    finance_staff,
    marketing_staff,
    proof,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerFactory(name="Fabrikam GmbH", business_model=BusinessModel.REGISTRATION_RETENTION)


def test_partner_home_shows_balance_deadline_and_expiring_funds(partner, client):
    today = timezone.localdate()
    expiring = FundProgramFactory(
        name="Last quarter", starts_on=today - datetime.timedelta(days=100),
        ends_on=today - datetime.timedelta(days=20), grace_days=30,
    )  # fmt: skip
    FundAllocationFactory(partner=partner, program=expiring, amount="700.00")
    allocation = FundAllocationFactory(partner=partner, amount="5000.00")
    marketer = partner_user(partner, PartnerRole.MARKETING)
    fr = approved_request(partner, user=marketer, allocation=allocation, amount="1000.00")
    client.force_login(marketer)
    body = client.get("/portal/marketing/").content.decode()
    assert "<dt>Available balance</dt><dd>4700.00</dd>" in body  # 5000 − 1000 committed + 700
    assert day(fr.claim_deadline) in body  # the one date style, e.g. "29 Jan 2027"
    assert "700.00 unclaimed expires on" in body
    assert fr.reference in body


def test_request_and_claim_through_the_portal_forms(partner, client):
    FundAllocationFactory(partner=partner, amount="5000.00")
    marketer = partner_user(partner, PartnerRole.MARKETING)
    client.force_login(marketer)
    today = timezone.localdate()
    assert client.get("/portal/marketing/requests/new/").status_code == 200
    response = client.post(
        "/portal/marketing/requests/new/",
        {"title": "Roadshow", "activity_type": "trade_show", "plan": "Booth",
         "starts_on": today - datetime.timedelta(days=2), "ends_on": today, "requested_amount": "800.00",
         "submit": "1"},
    )  # fmt: skip
    fr = FundRequest.objects.get()
    assert response.status_code == 302 and fr.status == "submitted"
    marketing = marketing_staff()
    client.force_login(marketing)
    queue = client.get("/portal/marketing/").content.decode()
    assert fr.reference in queue and "Budget burn" in queue
    response = client.post(
        f"/portal/marketing/requests/{fr.pk}/approve/",
        {"amount": "600.00", "reimbursement_percent": "50", "reason": "Cap",
         "claim_deadline": str(today + datetime.timedelta(days=30))},
    )  # fmt: skip
    fr.refresh_from_db()
    assert fr.status == "approved" and fr.approved_amount == 600 and fr.reimbursement_percent == 50

    client.force_login(marketer)
    response = client.post(
        f"/portal/marketing/requests/{fr.pk}/claims/",
        {"vendor": "Fair GmbH", "invoice_number": "F-1", "invoice_date": today, "amount": "1000.00",
         "kind": "invoice", "file": proof(), "submit": "1"},
    )  # fmt: skip
    claim = FundClaim.objects.get()
    assert response.status_code == 302 and claim.status == "submitted" and claim.reimbursable_amount == 500
    # A bad claim form is a 400 with the errors and nothing written.
    response = client.post(
        f"/portal/marketing/requests/{fr.pk}/claims/",
        {"vendor": "Fair GmbH", "invoice_number": "F 1", "invoice_date": today, "amount": "10.00",
         "kind": "invoice", "file": proof()},
    )  # fmt: skip
    assert response.status_code == 400 and claim.reference in response.content.decode()
    assert FundClaim.objects.count() == 1

    client.force_login(marketing)
    page = client.get(f"/portal/marketing/claims/{claim.pk}/").content.decode()
    assert claim.files.get().filename in page and "Approve" in page and "Mark paid" not in page
    client.post(f"/portal/marketing/claims/{claim.pk}/approve/", {"amount": "500.00"})
    client.force_login(finance_staff())
    assert "Mark paid" in client.get(f"/portal/marketing/claims/{claim.pk}/").content.decode()
    client.post(f"/portal/marketing/claims/{claim.pk}/mark-paid/", {"payment_reference": "SEPA-1"})
    claim.refresh_from_db()
    assert claim.status == "paid"


def test_rep_cannot_reach_the_request_form(partner, client):
    client.force_login(partner_user(partner, PartnerRole.REP))
    assert client.get("/portal/marketing/requests/new/").status_code == 403


def test_collateral_pages(partner, client):
    from mdf import services

    asset = services.asset_create(user=marketing_staff(), title="Brochure", body_html="<p>{partner_name}</p>")
    client.force_login(partner_user(partner, PartnerRole.REP))
    assert "Brochure" in client.get("/portal/marketing/collateral/").content.decode()
    assert client.get(f"/portal/marketing/collateral/{asset.pk}/").status_code == 200
    html = client.get(f"/portal/marketing/collateral/{asset.pk}/render.html")
    assert "Fabrikam GmbH" in html.content.decode() and "sandbox" in html["Content-Security-Policy"]
    assert client.get("/portal/marketing/campaigns/").status_code == 200


@pytest.mark.parametrize("page", ["requests", "claims", "collateral", "campaigns", ""])
def test_portal_pages_query_count_is_constant(partner, client, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mdf import services

    allocation = FundAllocationFactory(partner=partner, amount="100000.00")
    admin = partner_user(partner, PartnerRole.ADMIN)
    client.force_login(admin)

    def add_one(n):
        fr = approved_request(partner, user=admin, allocation=allocation, title=f"R{n}")
        submitted_claim(fr, user=admin, amount="10.00")
        services.campaign_create(user=admin, name=f"C{n}", starts_on=fr.starts_on, ends_on=fr.ends_on, fund_request=fr)
        services.asset_create(user=admin, title=f"A{n}", body_html="<p>x</p>")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/portal/marketing/{page}/".replace("//", "/")).status_code == 200
        return len(queries)

    add_one(0)
    count()
    before = count()
    for n in range(1, 5):
        add_one(n)
    assert count() == before
