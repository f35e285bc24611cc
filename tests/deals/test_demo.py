import pytest

from deals import demo
from deals.models import DealRegistration, Lead, LeadStatus, Opportunity, RegistrationStatus
from partners import demo as partners_demo
from partners.models import Commission

pytestmark = pytest.mark.django_db


def test_demo_shows_every_partner_and_a_live_conflict_and_is_idempotent():
    context = partners_demo.seed()
    demo.seed(context)
    counts = (
        DealRegistration.objects.count(),
        Lead.objects.count(),
        Opportunity.objects.count(),
        Commission.objects.count(),
    )
    demo.seed(context)
    assert (
        DealRegistration.objects.count(),
        Lead.objects.count(),
        Opportunity.objects.count(),
        Commission.objects.count(),
    ) == counts
    for slug in ("northwind", "contoso", "fabrikam", "tailspin", "wingtip"):
        statuses = set(DealRegistration.objects.filter(partner__slug=slug).values_list("status", flat=True))
        assert {"draft", "submitted", "returned", "approved", "won"} <= statuses, slug
        assert Lead.objects.filter(partner__slug=slug, status=LeadStatus.OFFERED).exists(), slug
        assert Opportunity.objects.filter(partner__slug=slug).exists(), slug
    conflicted = DealRegistration.objects.get(has_conflict=True, status=RegistrationStatus.SUBMITTED)
    [conflict] = conflicted.conflicts.all()
    assert conflict.conflicting_registration.partner.slug != conflicted.partner.slug
    assert Commission.objects.filter(status="paid").exists()
    # Channel integrity: one pending customer claim (asked twice, recorded once), a lead the parent took.
    from partners.models import CustomerClaim

    assert CustomerClaim.objects.filter(partner__slug="tailspin", status="pending").count() == 1
    assert Opportunity.objects.filter(lead__company_name="Nod Publishers", flow="direct").exists()
