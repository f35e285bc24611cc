"""Money through the services: commitment on approval, partial approvals, reimbursable = min(claimed ×
%, remainder), deadlines, payment, release on close, expiry and its warning, accruals, payout holds,
and the claim-submitted hook."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mdf import services, tasks
from mdf.models import AllocationStatus, FundAllocation, FundClaim, FundRequest
from mdf.signals import claim_submitted
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Notification
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import (
    FundAllocationFactory,
    FundProgramFactory,
    approved_request,
    finance_staff,
    marketing_staff,
    submitted_claim,
)

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = timezone.localdate


@pytest.fixture
def partner():
    return PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)


@pytest.fixture
def marketer(partner):
    return partner_user(partner, PartnerRole.MARKETING)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def test_full_chain_moves_money_and_tells_the_partner(partner, marketer):
    allocation = FundAllocationFactory(partner=partner, amount=D("5000.00"))
    fr = approved_request(partner, user=marketer, allocation=allocation, amount="2000.00", percent="50")
    assert fresh(allocation).committed == D("2000.00") and allocation.balance == D("3000.00")
    assert Notification.objects.filter(recipient=marketer, kind="mdf.request_decided").count() == 1
    # 50% co-op of a 3000 invoice is 1500, within the 2000 remainder.
    claim = submitted_claim(fr, user=marketer, amount="3000.00")
    assert claim.reimbursable_amount == D("1500.00") and fresh(fr).remainder == D("500.00")
    # min(): a second invoice of 3000 can only get the 500 left.
    second = submitted_claim(fr, user=marketer, amount="3000.00")
    assert second.reimbursable_amount == D("500.00") and fresh(fr).remainder == D("0.00")
    marketing, finance = marketing_staff(), finance_staff()
    services.fund_claim_approve(user=marketing, claim=claim)
    paid = services.fund_claim_mark_paid(user=finance, claim=claim, payment_reference="PAY-1")
    assert paid.status == "paid" and paid.payment_reference == "PAY-1"
    allocation = fresh(allocation)
    assert (allocation.committed, allocation.paid, allocation.balance) == (D("500.00"), D("1500.00"), D("3000.00"))
    assert Notification.objects.filter(recipient=marketer, kind="mdf.claim_paid").count() == 1
    assert AuditEvent.objects.filter(verb="mdf.claim.pay").count() == 1


def test_partial_approvals_need_a_reason_and_give_back_the_rest(partner, marketer):
    allocation = FundAllocationFactory(partner=partner, amount=D("5000.00"))
    fr = services.fund_request_create(
        user=marketer, allocation=allocation, submit=True, title="Trade show", activity_type="trade_show",
        plan="Booth", starts_on=TODAY() - datetime.timedelta(days=3), ends_on=TODAY(), requested_amount=D("4000"),
    )  # fmt: skip
    marketing = marketing_staff()
    with pytest.raises(ValidationError) as exc:
        services.fund_request_approve(user=marketing, fund_request=fr, amount=D("3000"))
    assert "reason" in exc.value.message_dict
    fr = services.fund_request_approve(user=marketing, fund_request=fr, amount=D("3000"), reason="Cap per event")
    assert fr.approved_amount == D("3000.00") and fresh(allocation).committed == D("3000.00")
    with pytest.raises(ValidationError):  # never above what was asked
        services.fund_request_approve(user=marketing, fund_request=fr, amount=D("5000"))
    claim = submitted_claim(fr, user=marketer, amount="1000.00")
    with pytest.raises(ValidationError) as exc:
        services.fund_claim_approve(user=marketing, claim=claim, amount=D("1200"), reason="x")
    assert "amount" in exc.value.message_dict  # above the reimbursable amount
    with pytest.raises(ValidationError):
        services.fund_claim_approve(user=marketing, claim=claim, amount=D("600"))  # partial without a reason
    claim = services.fund_claim_approve(user=marketing, claim=claim, amount=D("600"), reason="One receipt missing")
    assert claim.approved_amount == D("600.00") and fresh(fr).remainder == D("2400.00")


def test_approval_cannot_exceed_the_balance(partner, marketer):
    allocation = FundAllocationFactory(partner=partner, amount=D("1000.00"))
    approved_request(partner, user=marketer, allocation=allocation, amount="800.00")
    fr = services.fund_request_create(
        user=marketer, allocation=allocation, submit=True, title="More", activity_type="content", plan="p",
        starts_on=TODAY(), ends_on=TODAY(), requested_amount=D("300"),
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.fund_request_approve(user=marketing_staff(), fund_request=fr)
    assert "balance is 200.00" in str(exc.value)
    assert fresh(fr).status == "submitted" and fresh(allocation).committed == D("800.00")


def test_the_database_refuses_a_negative_balance(partner):
    allocation = FundAllocationFactory(partner=partner, amount=D("100.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        FundAllocation.objects.filter(pk=allocation.pk).update(committed=D("100.01"))
    fr = approved_request(partner, allocation=allocation, amount="100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        FundRequest.objects.filter(pk=fr.pk).update(reserved=D("100.01"))


def test_claims_after_the_deadline_or_beyond_the_remainder_are_refused(partner, marketer):
    fr = approved_request(partner, user=marketer, amount="100.00", percent="100")
    submitted_claim(fr, user=marketer, amount="100.00")
    with pytest.raises(ValidationError) as exc:  # nothing left on the request
        submitted_claim(fr, user=marketer, amount="10.00")
    assert "Nothing is left" in str(exc.value)
    assert FundClaim.objects.count() == 1  # the refused claim was not half-written
    other = approved_request(partner, user=marketer, amount="100.00")
    FundRequest.objects.filter(pk=other.pk).update(claim_deadline=TODAY() - datetime.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        submitted_claim(fresh(other), user=marketer)
    assert "deadline" in str(exc.value)
    assert FundClaim.objects.filter(fund_request=other).count() == 0


def test_claims_need_an_approved_request_and_proof(partner, marketer):
    allocation = FundAllocationFactory(partner=partner)
    draft = services.fund_request_create(
        user=marketer, allocation=allocation, title="x", activity_type="event", plan="p", starts_on=TODAY(),
        ends_on=TODAY(), requested_amount=D("10"),
    )  # fmt: skip
    with pytest.raises(ValidationError):
        submitted_claim(draft, user=marketer)
    fr = approved_request(partner, user=marketer)
    claim = services.fund_claim_create(
        user=marketer, fund_request=fr, vendor="V", invoice_number="1", invoice_date=TODAY(), amount=D("10")
    )
    with pytest.raises(ValidationError) as exc:
        services.fund_claim_submit(user=marketer, claim=claim)
    assert "proof" in str(exc.value)


def test_closing_past_the_deadline_releases_what_no_claim_holds(partner, marketer):
    allocation = FundAllocationFactory(partner=partner, amount=D("1000.00"))
    fr = approved_request(partner, user=marketer, allocation=allocation, amount="600.00", percent="100")
    claim = submitted_claim(fr, user=marketer, amount="200.00")
    FundRequest.objects.filter(pk=fr.pk).update(claim_deadline=TODAY() - datetime.timedelta(days=1))
    assert tasks.close_past_deadline_requests() == 1
    assert tasks.close_past_deadline_requests() == 0  # idempotent
    fr, allocation = fresh(fr), fresh(allocation)
    assert fr.status == "closed" and fr.released == D("400.00")
    assert allocation.committed == D("200.00") and allocation.balance == D("800.00")
    # The pending claim is honoured; a partial approval gives its rest back to the balance.
    services.fund_claim_approve(user=marketing_staff(), claim=claim, amount=D("150"), reason="Partial")
    assert fresh(allocation).committed == D("150.00") and allocation.balance == D("850.00")


def test_expiry_warns_once_then_expires_unclaimed_funds(partner, marketer):
    program = FundProgramFactory(
        starts_on=TODAY() - datetime.timedelta(days=90), ends_on=TODAY() - datetime.timedelta(days=10), grace_days=30
    )
    allocation = FundAllocationFactory(partner=partner, program=program, amount=D("900.00"))
    partner_admin = partner_user(partner, PartnerRole.ADMIN)
    assert tasks.check_fund_expiry() == {"warned": 1, "expired": 0}
    assert tasks.check_fund_expiry() == {"warned": 0, "expired": 0}
    assert Notification.objects.filter(recipient=partner_admin, kind="mdf.funds_expiring").count() == 1
    assert Notification.objects.filter(recipient=marketer, kind="mdf.funds_expiring").count() == 1
    FundProgramFactory._meta.model.objects.filter(pk=program.pk).update(grace_days=5)
    assert tasks.check_fund_expiry() == {"warned": 0, "expired": 1}
    allocation = fresh(allocation)
    assert allocation.status == AllocationStatus.EXPIRED and allocation.expired == D("900.00")
    assert allocation.balance == D("0.00")
    with pytest.raises(ValidationError):  # no requests against an expired allocation
        services.fund_request_create(
            user=marketer, allocation=allocation, title="x", activity_type="event", plan="p", starts_on=TODAY(),
            ends_on=TODAY(), requested_amount=D("10"),
        )  # fmt: skip


def test_accruals_are_proposed_from_last_period_revenue_and_approved(partner):
    from quotes.models import Order
    from tests.factories.quotes import order_with_line

    program = FundProgramFactory(
        starts_on=TODAY() - datetime.timedelta(days=10), ends_on=TODAY() + datetime.timedelta(days=80),
        accrual_percent=D("2.00"), budget=D("100000"),
    )  # fmt: skip
    order = order_with_line(partner)
    Order.objects.filter(pk=order.pk).update(
        status="fulfilled", total=D("50000.00"), fulfilled_at=timezone.now() - datetime.timedelta(days=30)
    )
    assert tasks.compute_accruals() >= 1
    assert tasks.compute_accruals() == 0  # once per partner and program
    allocation = FundAllocation.objects.get(partner=partner, program=program)
    assert allocation.status == "proposed" and allocation.amount == D("1000.00")
    assert allocation.accrual_basis == D("50000.00")
    with pytest.raises(ValidationError):  # proposed funds cannot be requested yet
        services.fund_request_create(
            user=partner_user(partner, PartnerRole.MARKETING), allocation=allocation, title="x",
            activity_type="event", plan="p", starts_on=TODAY(), ends_on=TODAY(), requested_amount=D("10"),
        )  # fmt: skip
    services.fund_allocation_approve(user=finance_staff(), allocation=allocation)
    assert fresh(allocation).status == "active"


def test_bulk_allocation_by_tier_respects_the_budget(partner):
    from mdf.models import TierFund

    program = FundProgramFactory(budget=D("1500.00"))
    TierFund.objects.create(program=program, tier=partner.tier, amount=D("1000.00"))
    second = PartnerFactory(tier=partner.tier)
    with pytest.raises(ValidationError):  # two Gold partners need 2000
        services.fund_allocations_by_tier(user=marketing_staff(), program=program)
    assert FundAllocation.objects.filter(program=program).count() == 0
    program.budget = D("2000.00")
    program.save()
    created = services.fund_allocations_by_tier(user=marketing_staff(), program=program)
    assert {a.partner_id for a in created} == {partner.pk, second.pk}
    assert services.fund_allocations_by_tier(user=marketing_staff(), program=program) == []


def test_a_held_claim_cannot_be_paid(partner, marketer):
    """A confirmed fraud alert on the claim holds it: 403 (PayoutHeld) with the reason, nothing paid;
    released, it pays."""
    from analytics import fraud
    from analytics.holds import PayoutHeld
    from analytics.models import FraudRule, PayoutHold

    fr = approved_request(partner, user=marketer)
    claim = services.fund_claim_approve(user=marketing_staff(), claim=submitted_claim(fr, user=marketer))
    fraud.sync_rules()
    rule = FraudRule.objects.get(code="mdf_round_amount")
    finding = fraud.Finding(
        partner_id=partner.pk,
        subject_key=fraud.subject_key(claim),
        subject_repr=str(claim),
        score=60,
        summary="test",
        hold_keys=[f"mdf-claim:{claim.pk}"],
    )
    fraud.record(rule, [finding])
    fraud.place_holds(rule.alerts.all(), reason="Confirmed fraud alert FA-7")
    with pytest.raises(PayoutHeld) as exc:
        services.fund_claim_mark_paid(user=finance_staff(), claim=claim, payment_reference="P")
    assert isinstance(exc.value, PermissionDenied) and "Confirmed fraud alert FA-7" in str(exc.value)
    assert fresh(claim).status == "approved" and fresh(claim.fund_request).paid_amount == 0
    PayoutHold.objects.update(released_at=timezone.now())
    assert services.fund_claim_mark_paid(user=finance_staff(), claim=claim, payment_reference="P").status == "paid"


def test_claim_submitted_hook_runs_inside_the_submission(partner, marketer):
    fr = approved_request(partner, user=marketer)
    received = []

    def watcher(sender, claim, **kwargs):
        received.append(claim.reference)
        if claim.vendor == "Shady":
            raise ValidationError({"invoice_number": ["Held for review."]})

    claim_submitted.connect(watcher)
    try:
        ok = submitted_claim(fr, user=marketer)
        assert received == [ok.reference]
        with pytest.raises(ValidationError):
            submitted_claim(fr, user=marketer, vendor="Shady")
        assert not FundClaim.objects.filter(vendor="Shady").exists()
    finally:
        claim_submitted.disconnect(watcher)


def test_a_rep_and_a_parent_led_partner_cannot_request_funds():
    referral = PartnerFactory(business_model=BusinessModel.REFERRAL)
    FundAllocationFactory(partner=referral)
    with pytest.raises(PermissionDenied):
        services.fund_request_create(
            user=partner_user(referral, PartnerRole.ADMIN), title="x", activity_type="event", plan="p",
            starts_on=TODAY(), ends_on=TODAY(), requested_amount=D("10"),
        )  # fmt: skip
    retention = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    FundAllocationFactory(partner=retention)
    with pytest.raises(PermissionDenied):
        services.fund_request_create(
            user=partner_user(retention, PartnerRole.REP), title="x", activity_type="event", plan="p",
            starts_on=TODAY(), ends_on=TODAY(), requested_amount=D("10"),
        )  # fmt: skip
    assert FundRequest.objects.count() == 0
