"""The MDF fraud rules (near-duplicate invoices and amounts, round amounts, claims at an approval
threshold or outside the activity window, claims per hour) fire on a crafted claim and stay silent on
a near miss, through the `claim_submitted` event and the nightly sweep alike; a confirmed alert on a
claim holds its reimbursement (403 with the reason) in the API, the portal and the admin."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from analytics import fraud, services
from analytics.models import FraudAlert
from mdf import services as mdf
from mdf.models import FundClaim
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.analytics.conftest import alerts, set_thresholds
from tests.conftest import api_as
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import FundAllocationFactory, approved_request, marketing_staff, proof

pytestmark = pytest.mark.django_db
MDF_RULES = [
    "mdf_near_duplicate_invoice",
    "mdf_near_duplicate_amount",
    "mdf_round_amount",
    "mdf_at_threshold",
    "mdf_outside_activity_window",
]


@pytest.fixture(autouse=True)
def _hooks_run_at_once(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())


def funded(partner=None):
    """An approved request of 40,000 at 100% on a partner whose marketing lets it claim funds."""
    partner = partner or PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    FundAllocationFactory(partner=partner, amount=Decimal("100000.00"))
    user = partner_user(partner, PartnerRole.MARKETING)
    return approved_request(partner, user=user, amount="40000.00", percent="100")


def claim(fund_request, *, amount, vendor="Contoso Print", invoice, days_ago=1):
    return mdf.fund_claim_create(
        user=fund_request.created_by,
        fund_request=fund_request,
        vendor=vendor,
        invoice_number=invoice,
        invoice_date=timezone.localdate() - datetime.timedelta(days=days_ago),
        amount=Decimal(amount),
        files=[proof()],
        submit=True,
    )


def fired(code, subject) -> bool:
    return alerts(code, subject_key=fraud.subject_key(subject)).exists()


def test_near_duplicate_invoice_across_partners():
    first, second = funded(), funded()
    earlier = claim(first, amount="1234.56", vendor="Acme Events Ltd", invoice="INV-1001")
    typo = claim(second, amount="2345.67", vendor="Acme Events Ltd", invoice="INV-10O1")  # a letter O for a 0
    suffixed = claim(second, amount="1345.67", vendor="Acme Events Ltd", invoice="INV-1001-B")  # the same digits
    renamed = claim(second, amount="345.67", vendor="Acme Event Ltd", invoice="INV 1001")  # the vendor, one edit
    sequential = claim(second, amount="456.78", vendor="Acme Events Ltd", invoice="INV-1002")  # the vendor's next
    other_vendor = claim(second, amount="567.89", vendor="Globex Printing", invoice="INV-10O3")  # near miss
    for subject in (typo, suffixed, renamed):
        assert fired("mdf_near_duplicate_invoice", subject), subject
    [alert] = alerts("mdf_near_duplicate_invoice", subject_key=fraud.subject_key(typo))
    assert alert.partner_id == second.partner_id and alert.hold_keys == [f"mdf-claim:{typo.pk}"]
    assert {row["claim"] for row in alert.evidence} == {earlier.pk}
    assert alert.evidence[0]["partner"] == first.partner_id
    assert not fired("mdf_near_duplicate_invoice", earlier)  # the first of the pair is not the suspect
    assert not fired("mdf_near_duplicate_invoice", sequential)
    assert not fired("mdf_near_duplicate_invoice", other_vendor)


def test_near_duplicate_amounts_from_one_vendor():
    fund_request = funded()
    first = claim(fund_request, amount="2480.00", vendor="Northwind Print", invoice="NW-88120")
    close = claim(fund_request, amount="2495.10", vendor="Northwind Print", invoice="NW-90457")  # within 1%
    apart = claim(fund_request, amount="2700.00", vendor="Northwind Print", invoice="NW-11753")  # near miss
    other = claim(fund_request, amount="2481.00", vendor="Fabrikam Venues", invoice="FV-3340")  # other vendor
    assert fired("mdf_near_duplicate_amount", close)
    assert alerts("mdf_near_duplicate_amount").get().evidence[0]["claim"] == first.pk
    assert not fired("mdf_near_duplicate_amount", apart) and not fired("mdf_near_duplicate_amount", other)
    assert not fired("mdf_near_duplicate_amount", first)


@pytest.mark.parametrize(("amount", "fires"), [("3000.00", True), ("3000.50", False), ("2950.00", False)])
def test_round_amounts(amount, fires):
    subject = claim(funded(), amount=amount, invoice="R-58213")
    assert fired("mdf_round_amount", subject) is fires


@pytest.mark.parametrize(("amount", "fires"), [("4990.00", True), ("9850.00", True), ("4880.00", False)])
def test_claims_at_or_just_below_an_approval_threshold(amount, fires):
    subject = claim(funded(), amount=amount, invoice="T-7731")
    assert fired("mdf_at_threshold", subject) is fires


@pytest.mark.parametrize(("days_before_start", "fires"), [(31, True), (30, False)])
def test_claims_dated_outside_the_activity_window(days_before_start, fires):
    fund_request = funded()  # the activity ran from five days ago to yesterday
    subject = claim(fund_request, amount="812.40", invoice="W-4410", days_ago=5 + days_before_start)
    assert fired("mdf_outside_activity_window", subject) is fires
    if fires:
        assert alerts("mdf_outside_activity_window").get().evidence[0]["days_outside"] == 1


@pytest.mark.parametrize(("count", "fires"), [(3, True), (2, False)])
def test_velocity_claims_per_hour(count, fires):
    set_thresholds("velocity", max_claims_per_hour=2, max_per_hour=99, similar_names=99)
    fund_request = funded()
    for n in range(count):
        claim(fund_request, amount=f"{311 + 97 * n}.17", vendor=f"Vendor {'ABCD'[n]}", invoice=f"V-{n}-{n * 7919}")
    assert alerts("velocity", partner_id=fund_request.partner_id).exists() is fires
    if fires:
        assert "3 MDF claims in the last hour" in alerts("velocity").get().summary


def test_the_sweep_finds_what_the_events_found_and_never_twice():
    first, second = funded(), funded()
    claim(first, amount="1234.56", vendor="Acme Events Ltd", invoice="INV-1001")
    claim(second, amount="2345.67", vendor="Acme Events Ltd", invoice="INV-10O1")
    claim(first, amount="2480.00", vendor="Northwind Print", invoice="NW-88120")
    claim(first, amount="2495.10", vendor="Northwind Print", invoice="NW-90457")
    claim(second, amount="3000.00", vendor="Round Co", invoice="RC-5")
    claim(second, amount="4990.00", vendor="Edge Co", invoice="EC-7")
    claim(second, amount="812.40", vendor="Early Co", invoice="EA-9", days_ago=50)
    found = set(FraudAlert.objects.filter(rule__code__in=MDF_RULES).values_list("rule__code", "subject_key"))
    assert {code for code, _ in found} == set(MDF_RULES)
    FraudAlert.objects.all().delete()
    counts = fraud.sweep(codes=MDF_RULES)
    swept = set(FraudAlert.objects.filter(rule__code__in=MDF_RULES).values_list("rule__code", "subject_key"))
    assert swept == found and sum(counts.values()) == len(found)
    fraud.sweep(codes=MDF_RULES)
    assert FraudAlert.objects.filter(rule__code__in=MDF_RULES).count() == len(found)


def test_the_mdf_rules_are_rows_in_the_admin(parent_admin):
    rows = fraud.sync_rules()
    assert set(MDF_RULES) <= set(rows)
    assert rows["mdf_round_amount"].thresholds == {"round_to": 1000, "min_amount": 1000, "sweep_days": 30}
    client = Client()
    client.force_login(parent_admin)
    page = client.get("/admin/analytics/fraudrule/").content.decode()
    assert "MDF: near-duplicate invoice" in page and "MDF: claim outside the activity window" in page


def test_a_confirmed_alert_holds_the_claim_in_the_api_the_portal_and_the_admin(analyst, finance):
    fund_request = funded()
    held = claim(fund_request, amount="3000.00", vendor="Round Co", invoice="RC-1")
    clean = claim(fund_request, amount="812.40", vendor="Plain Co", invoice="PC-7340")
    marketing = marketing_staff()
    for each in (held, clean):
        mdf.fund_claim_approve(user=marketing, claim=each)
    alert = alerts("mdf_round_amount").get()
    services.fraud_alert_confirm(user=analyst, alert=alert, reason="Invented invoice.")

    response = api_as(finance).post(f"/api/v1/fund-claims/{held.pk}/mark-paid/", {"payment_reference": "PAY-1"})
    assert response.status_code == 403
    assert "Payment held" in response.json()["detail"] and "MDF: round amount" in response.json()["detail"]
    client = Client()
    client.force_login(finance)
    response = client.post(f"/portal/marketing/claims/{held.pk}/mark-paid/", {"payment_reference": "PAY-2"})
    assert response.status_code == 403 and "MDF: round amount" in response.content.decode()
    response = client.post(
        "/admin/mdf/fundclaim/",
        {"action": "mark_paid", "_selected_action": [held.pk], "payment_reference": "PAY-3"},
    )
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Payment held" in m and "MDF: round amount" in m for m in shown), shown
    held.refresh_from_db()
    assert held.status == "approved" and held.paid_at is None and held.fund_request.paid_amount == 0

    # The partner's other claim is still payable.
    response = api_as(finance).post(f"/api/v1/fund-claims/{clean.pk}/mark-paid/", {"payment_reference": "PAY-4"})
    assert response.status_code == 200, response.json()
    assert FundClaim.objects.get(pk=clean.pk).status == "paid"


def test_dismissing_releases_and_the_claim_pays(analyst, finance):
    set_thresholds("mdf_round_amount")
    from analytics.models import FraudRule, RuleAction

    FraudRule.objects.filter(code="mdf_round_amount").update(action=RuleAction.HOLD)
    fund_request = funded()
    held = mdf.fund_claim_approve(
        user=marketing_staff(), claim=claim(fund_request, amount="5000.00", vendor="Round Co", invoice="RC-2")
    )
    assert (
        api_as(finance).post(f"/api/v1/fund-claims/{held.pk}/mark-paid/", {"payment_reference": "X"}).status_code == 403
    )
    services.fraud_alert_dismiss(user=analyst, alert=alerts("mdf_round_amount").get(), reason="A flat-fee booth.")
    assert (
        api_as(finance).post(f"/api/v1/fund-claims/{held.pk}/mark-paid/", {"payment_reference": "X"}).status_code == 200
    )
