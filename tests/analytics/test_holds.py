"""A confirmed alert holds the partner's pending payouts for its subject: finance cannot pay a held
commission through the API, the portal or the admin (403 with the reason); other payouts stay
payable; dismissing a rule's immediate hold releases it."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from analytics import fraud, services
from analytics.holds import hold_reason
from analytics.models import FraudAlert, FraudRule, PayoutHold, RuleAction
from deals import services as deals
from deals.models import Opportunity, OpportunityFlow
from partners import ledger
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import Commission, PartnerStatus
from tests.conftest import api_as
from tests.factories import PartnerFactory, partner_user
from tests.factories.deals import OpportunityFactory, registration_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hooks_run_at_once(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())


@pytest.fixture
def suspicious(parent_admin, finance):
    """The issue's story: a win at 950k with no order, verified and approved by finance."""
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Big Fish Inc", domain="bigfish.example", value="12000.00")
    deals.deal_registration_approve(user=parent_admin, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    deals.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("950000.00"))
    entry = deals.opportunity_verify_win(user=finance, opportunity=opportunity)
    ledger.commission_approve(user=finance, commission=entry)
    alert = FraudAlert.objects.get(rule__code="win_without_order")
    return partner, opportunity, entry, alert


def clean_commission(partner, finance):
    clean = OpportunityFactory(partner=partner, flow=OpportunityFlow.PARTNER_MANAGED, stage="closed_won")
    entry, _ = ledger.commission_accrue(
        partner=partner, source="closed_deal", source_ref=f"opportunity:{clean.pk}", amount=Decimal("10.00")
    )
    return ledger.commission_approve(user=finance, commission=entry)


def test_confirmed_alert_holds_the_payout_everywhere(suspicious, analyst, finance):
    partner, opportunity, entry, alert = suspicious
    assert entry.amount == Decimal("76000.00")  # 8% of 950k: the unnoticed payout
    assert hold_reason(partner_id=partner.pk, subject=entry) is None
    services.fraud_alert_confirm(user=analyst, alert=alert, reason="No contract exists.")
    reason = hold_reason(partner_id=partner.pk, subject=entry)
    assert reason and "Win without an order" in reason

    # API: 403 with the reason.
    response = api_as(finance).post(f"/api/v1/commissions/{entry.pk}/mark-paid/", {"reference": "PAY-1"})
    assert response.status_code == 403
    assert "Payment held" in response.json()["detail"] and "Win without an order" in response.json()["detail"]
    # Portal: 403 with the reason.
    client = Client()
    client.force_login(finance)
    response = client.post(f"/portal/deals/commissions/{entry.pk}/mark-paid/", {"reference": "PAY-2"})
    assert response.status_code == 403 and "Win without an order" in response.content.decode()
    # Admin: the action refuses with the reason as a message.
    response = client.post(
        "/admin/partners/commission/",
        {"action": "mark_paid", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Payment held" in m for m in shown), shown
    entry.refresh_from_db()
    assert entry.status == "approved" and entry.paid_at is None

    # Another payout of the same partner, for another subject, is still payable.
    other = clean_commission(partner, finance)
    assert api_as(finance).post(f"/api/v1/commissions/{other.pk}/mark-paid/", {"reference": "OK"}).status_code == 200


def test_confirm_may_suspend_the_partner(suspicious, analyst):
    partner, _, _, alert = suspicious
    response = api_as(analyst).post(f"/api/v1/fraud-alerts/{alert.pk}/confirm/", {"suspend_partner": True})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.SUSPENDED


def test_a_hold_rule_holds_at_once_and_dismissal_releases_it(parent_admin, analyst, finance):
    fraud.sync_rules()
    FraudRule.objects.filter(code="won_amount_inflated").update(action=RuleAction.HOLD)
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Inflated Inc", domain="inflated.example", value="10000.00")
    deals.deal_registration_approve(user=parent_admin, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    deals.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("90000.00"))
    entry = ledger.commission_approve(
        user=finance, commission=deals.opportunity_verify_win(user=finance, opportunity=opportunity)
    )
    assert api_as(finance).post(f"/api/v1/commissions/{entry.pk}/mark-paid/", {}).status_code == 403
    alert = FraudAlert.objects.get(rule__code="won_amount_inflated")
    services.fraud_alert_dismiss(user=analyst, alert=alert, reason="The customer expanded the deal.")
    assert PayoutHold.objects.get(alert=alert).released_at is not None
    assert api_as(finance).post(f"/api/v1/commissions/{entry.pk}/mark-paid/", {}).status_code == 200
    assert Commission.objects.get(pk=entry.pk).status == "paid"


def test_a_partner_wide_hold_holds_every_pending_payout(finance, analyst):
    partner = PartnerFactory()
    entry = clean_commission(partner, finance)
    fraud.sync_rules()
    velocity = FraudRule.objects.get(code="velocity")
    fraud.record(
        velocity,
        [
            fraud.Finding(
                partner_id=partner.pk,
                subject_key=f"partners.partner:{partner.pk}@{timezone.now().date()}",
                subject_repr=partner.name,
                score=80,
                summary="Velocity",
                hold_keys=[""],
            )
        ],
    )
    services.fraud_alert_confirm(user=analyst, alert=FraudAlert.objects.get(rule=velocity), reason="Bot.")
    assert "Registration and claim velocity" in hold_reason(partner_id=partner.pk, subject=entry)
    assert hold_reason(partner_id=PartnerFactory().pk, subject=entry) is None


def test_only_the_fraud_analyst_triages(suspicious, finance):
    _, _, _, alert = suspicious
    # Finance does not even see the alert.
    assert api_as(finance).post(f"/api/v1/fraud-alerts/{alert.pk}/dismiss/", {"reason": "x"}).status_code == 404
    with pytest.raises(Exception, match="fraud analyst"):
        services.fraud_alert_dismiss(user=finance, alert=alert, reason="x")


def test_dismiss_needs_a_reason_and_nothing_is_half_written(suspicious, analyst):
    _, _, _, alert = suspicious
    response = api_as(analyst).post(f"/api/v1/fraud-alerts/{alert.pk}/dismiss/", {})
    assert response.status_code == 400 and "reason" in response.json()
    response = api_as(analyst).post(f"/api/v1/fraud-alerts/{alert.pk}/dismiss/", {"reason": "  "})
    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.status == "open"
    assert api_as(analyst).post(f"/api/v1/fraud-alerts/{alert.pk}/dismiss/", {"reason": "fine"}).status_code == 200
    again = api_as(analyst).post(f"/api/v1/fraud-alerts/{alert.pk}/confirm/", {})
    assert again.status_code == 400


def test_a_win_accrues_on_the_fulfilled_orders_value(parent_admin, finance):
    """With an order behind it, a win accrues on what was fulfilled, not on the claimed amount."""
    from quotes.services import order_fulfil
    from tests.factories.quotes import QuoteFactory, order_with_line

    partner = PartnerFactory(business_model=BusinessModel.DUAL)  # 8% on close
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Ordered Inc", domain="ordered.example", value="12000.00")
    deals.deal_registration_approve(user=parent_admin, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    quote = QuoteFactory(partner=partner, customer=opportunity.customer, opportunity=opportunity)
    order = order_with_line(
        partner, opportunity.customer, quote=quote, opportunity=opportunity, status="provisioning", quantity=100
    )
    deals.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("950000.00"))
    assert not Commission.objects.filter(partner=partner, source="closed_deal").exists()
    with pytest.raises(Exception, match="has an order"):
        deals.opportunity_verify_win(user=finance, opportunity=opportunity)
    order_fulfil(order=order)
    entry = Commission.objects.get(partner=partner, source="closed_deal")
    assert entry.base_amount == order.total and entry.amount == (order.total * Decimal("0.08")).quantize(
        Decimal("0.01")
    )
    opportunity.refresh_from_db()
    assert opportunity.stage == "closed_won" and entry.source_ref == f"opportunity:{opportunity.pk}"


def test_finance_verifies_a_win_in_the_admin(parent_admin, finance):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Admin Verified Inc", domain="adminverified.example", value="10000.00")
    deals.deal_registration_approve(user=parent_admin, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    deals.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("20000.00"))
    client = Client()
    client.force_login(finance)
    client.post("/admin/deals/opportunity/", {"action": "verify_win", "_selected_action": [opportunity.pk]})
    entry = Commission.objects.get(partner=partner, source="closed_deal")
    assert entry.amount == Decimal("1600.00") and entry.base_amount == Decimal("20000.00")
