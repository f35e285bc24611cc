"""The facts equal a direct computation over the demo data (an independent query in the test),
months are the sum of their days, a refresh is idempotent, and an event refreshes its partner."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics import facts
from analytics.models import Fact
from deals.models import DealRegistration, LeadOffer, Opportunity
from partners.models import Commission
from quotes.models import Order


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)


def fact_months(metric):
    return {
        (f.partner_id, f.period.strftime("%Y-%m")): f.value
        for f in Fact.objects.filter(grain="month", metric=metric, product_line__isnull=True)
    }


def by_month(rows):
    """{(partner id, "YYYY-MM"): sum} computed in Python from (partner id, datetime, value) rows."""
    result = defaultdict(Decimal)
    for partner_id, when, value in rows:
        if when is not None:
            result[(partner_id, when.astimezone(datetime.UTC).strftime("%Y-%m"))] += Decimal(value)
    return {key: value for key, value in result.items() if value}


def test_facts_equal_a_direct_computation_over_the_demo(demo):
    won = Opportunity.objects.filter(stage="closed_won").values_list("partner_id", "closed_at", "amount")
    assert fact_months("won_amount") == by_month(won)
    assert fact_months("won_count") == by_month((p, t, 1) for p, t, _ in won)
    lost = Opportunity.objects.filter(stage="closed_lost").values_list("partner_id", "closed_at")
    assert fact_months("lost_count") == by_month((p, t, 1) for p, t in lost)
    submitted = DealRegistration.objects.values_list("partner_id", "submitted_at", "estimated_value")
    assert fact_months("registrations_submitted") == by_month((p, t, 1) for p, t, _ in submitted)
    assert fact_months("registered_value") == by_month(submitted)
    approved = DealRegistration.objects.values_list("partner_id", "approved_at")
    assert fact_months("registrations_approved") == by_month((p, t, 1) for p, t in approved)
    offers = LeadOffer.objects.values_list("partner_id", "offered_at")
    assert fact_months("leads_offered") == by_month((p, t, 1) for p, t in offers)
    fulfilled = Order.objects.filter(status="fulfilled").values_list("partner_id", "fulfilled_at", "total")
    assert fact_months("fulfilled_revenue") == by_month(fulfilled)
    accrued = Commission.objects.exclude(status="reversed").values_list("partner_id", "accrued_at", "amount")
    assert fact_months("commission_accrued") == by_month(accrued)
    # The demo has a year of history, direct business and every partner.
    months = {period for _, period in fact_months("won_amount")}
    assert len(months) >= 10
    assert any(partner is None for partner, _ in fact_months("won_amount"))

    # Months are the sum of their days, and a refresh is idempotent (one seed for both checks).
    def rows():
        return sorted(
            Fact.objects.values_list("grain", "period", "partner_id", "product_line_id", "metric", "value"), key=str
        )

    days = defaultdict(Decimal)
    for f in Fact.objects.filter(grain="day"):
        if facts.METRICS[f.metric].kind == "flow":
            days[(f.partner_id, f.product_line_id, f.metric, f.period.replace(day=1))] += f.value
    months = {
        (f.partner_id, f.product_line_id, f.metric, f.period): f.value
        for f in Fact.objects.filter(grain="month")
        if facts.METRICS[f.metric].kind == "flow"
    }
    assert months == dict(days)
    before = rows()
    today = timezone.now().date()
    facts.refresh(start=today - datetime.timedelta(days=400), end=today)
    facts.refresh(start=today - datetime.timedelta(days=400), end=today)
    assert rows() == before


def test_an_event_refreshes_its_partners_facts_of_today(db, django_capture_on_commit_callbacks):
    from deals import services
    from partners.access import PartnerRole
    from partners.agreement import BusinessModel
    from tests.factories import PartnerFactory, partner_user
    from tests.factories.deals import OpportunityFactory

    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    opportunity = OpportunityFactory(partner=partner, owner=rep, registered_by=rep)
    today = timezone.now().date()
    assert not Fact.objects.filter(grain="day", period=today, partner=partner, metric="won_amount").exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("1234.00"))
    day = Fact.objects.get(grain="day", period=today, partner=partner, metric="won_amount")
    month = Fact.objects.get(grain="month", period=today.replace(day=1), partner=partner, metric="won_amount")
    assert day.value == month.value == Decimal("1234.00")
    # Another partner's figures are untouched by this partner's event.
    assert not Fact.objects.exclude(partner=partner).filter(metric="won_amount").exists()
