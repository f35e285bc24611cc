"""Concurrent approvals, claims and payments against one allocation never overspend it: row locks
(select_for_update) serialise the checks and the database constraints refuse anything that slipped
through. PostgreSQL only (SQLite has no row locks)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from mdf import services
from mdf.models import FundAllocation, FundClaim, FundRequest
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import FundAllocationFactory, approved_request, finance_staff, marketing_staff, proof

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def run_all(jobs):
    """Run callables at the same moment, one thread and connection each; returns (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors, unexpected = [], [], []

    def run(job):
        try:
            barrier.wait(timeout=20)
            results.append(job())
        except ValidationError as exc:
            errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            unexpected.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not unexpected, unexpected
    return results, errors


@pytest.fixture
def setup():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real row locks")
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    marketer = partner_user(partner, PartnerRole.MARKETING)
    allocation = FundAllocationFactory(partner=partner, amount=D("1000.00"))
    return partner, marketer, allocation


def _draft_request(marketer, allocation, amount):
    today = timezone.localdate()
    return services.fund_request_create(
        user=marketer, allocation=allocation, submit=True, title="Event", activity_type="event", plan="p",
        starts_on=today, ends_on=today, requested_amount=D(amount),
    )  # fmt: skip


def test_concurrent_approvals_and_payments_never_overspend(setup):
    partner, marketer, allocation = setup
    marketing, finance = marketing_staff(), finance_staff()
    # 500 committed to one request, with five approved claims of 100 waiting to be paid.
    paid_request = approved_request(partner, user=marketer, allocation=allocation, amount="500.00", percent="100")
    claims = []
    for n in range(5):
        claim = services.fund_claim_create(
            user=marketer, fund_request=paid_request, vendor="V", invoice_number=f"P-{n}",
            invoice_date=timezone.localdate(), amount=D("100"), files=[proof()], submit=True,
        )  # fmt: skip
        claims.append(services.fund_claim_approve(user=marketing, claim=claim))
    # Six requests of 200 compete for the 500 left, while finance pays the claims.
    pending = [_draft_request(marketer, allocation, "200.00") for _ in range(6)]
    jobs = [lambda fr=fr: services.fund_request_approve(user=marketing, fund_request=fr) for fr in pending]
    jobs += [
        lambda c=c: services.fund_claim_mark_paid(user=finance, claim=c, payment_reference=f"PAY-{c.pk}")
        for c in claims
    ]
    results, errors = run_all(jobs)
    approved = FundRequest.objects.filter(pk__in=[fr.pk for fr in pending], status="approved").count()
    assert approved == 2 and len(errors) == 4
    assert all("balance" in str(e) for e in errors)
    allocation.refresh_from_db()
    assert allocation.paid == D("500.00") and allocation.committed == D("400.00")
    assert allocation.committed + allocation.paid <= allocation.amount and allocation.balance == D("100.00")
    assert FundClaim.objects.filter(status="paid").count() == 5


def test_concurrent_claims_never_exceed_the_request(setup):
    partner, marketer, allocation = setup
    fund_request = approved_request(partner, user=marketer, allocation=allocation, amount="500.00", percent="100")
    drafts = [
        services.fund_claim_create(
            user=marketer,
            fund_request=fund_request,
            vendor="V",
            invoice_number=f"C-{n}",
            invoice_date=timezone.localdate(),
            amount=D("150"),
            files=[proof()],
        )  # fmt: skip
        for n in range(6)
    ]
    results, errors = run_all([lambda c=c: services.fund_claim_submit(user=marketer, claim=c) for c in drafts])
    fund_request.refresh_from_db()
    # 150 + 150 + 150 + the 50 that is left: four claims, the rest refused; never more than approved.
    assert len(results) == 4 and len(errors) == 2
    assert sorted(c.reimbursable_amount for c in results) == [D("50.00"), D("150.00"), D("150.00"), D("150.00")]
    assert fund_request.reserved == D("500.00") and fund_request.remainder == D("0.00")
    assert FundAllocation.objects.get(pk=allocation.pk).committed == D("500.00")


def test_the_same_invoice_submitted_twice_at_once_is_claimed_once(setup):
    partner, marketer, allocation = setup
    other = PartnerFactory(business_model=BusinessModel.DUAL)
    other_marketer = partner_user(other, PartnerRole.MARKETING)
    mine = approved_request(partner, user=marketer, allocation=allocation)
    theirs = approved_request(other, user=other_marketer)
    kwargs = {"vendor": "Acme", "invoice_number": "SAME-1", "invoice_date": timezone.localdate(), "amount": D("10")}
    first = services.fund_claim_create(user=marketer, fund_request=mine, files=[proof()], **kwargs)
    second = services.fund_claim_create(user=other_marketer, fund_request=theirs, files=[proof()], **kwargs)
    results, errors = run_all(
        [
            lambda: services.fund_claim_submit(user=marketer, claim=first),
            lambda: services.fund_claim_submit(user=other_marketer, claim=second),
        ]
    )
    assert len(results) == 1 and len(errors) == 1
    assert FundClaim.objects.filter(invoice_key="SAME1", status="submitted").count() == 1
