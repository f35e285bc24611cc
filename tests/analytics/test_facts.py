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


def test_renewal_and_mdf_facts_equal_a_direct_computation_over_the_demo(demo):
    from mdf.models import FundAllocation, FundClaim
    from renewals.models import Renewal

    today = timezone.now().date()
    first = (today.replace(day=1) - datetime.timedelta(days=366)).replace(day=1)  # what seed_demo refreshed

    def by_day_month(rows):
        result = defaultdict(Decimal)
        for partner_id, day, value in rows:
            if first <= day <= today:
                result[(partner_id, day.strftime("%Y-%m"))] += Decimal(value)
        return {key: value for key, value in result.items() if value}

    renewals = list(Renewal.objects.values_list("partner_id", "term_end", "status", "closed_at"))
    due = by_day_month((p, end, 1) for p, end, status, _ in renewals if status != "cancelled")
    assert due and fact_months("renewals_due") == due
    renewed = by_month((p, closed, 1) for p, _, status, closed in renewals if status == "renewed")
    lapsed = by_month((p, closed, 1) for p, _, status, closed in renewals if status == "lapsed")
    assert renewed and fact_months("renewals_renewed") == renewed
    assert fact_months("renewals_lapsed") == lapsed

    paid = FundClaim.objects.filter(status="paid").values_list("partner_id", "paid_at", "approved_amount")
    assert paid and fact_months("mdf_spent") == by_month(paid)

    def funded(opportunity):
        return any(
            link is not None and link.campaign is not None and link.campaign.fund_request_id is not None
            for link in (opportunity.lead, opportunity.registration)
        )

    opportunities = [
        o
        for o in Opportunity.objects.select_related("lead__campaign", "registration__campaign")
        if o.partner_id and funded(o)
    ]
    won = [(o.partner_id, o.closed_at, o.amount) for o in opportunities if o.stage == "closed_won"]
    assert won and fact_months("mdf_won_revenue") == by_month(won)
    pipeline = defaultdict(Decimal)
    for o in opportunities:
        if o.stage not in ("closed_won", "closed_lost"):
            pipeline[o.partner_id] += o.amount
    snapshot = {f.partner_id: f.value for f in Fact.objects.filter(grain="day", period=today, metric="mdf_pipeline")}
    assert snapshot and snapshot == {p: v for p, v in pipeline.items() if v}

    balances = defaultdict(Decimal)
    for allocation in FundAllocation.objects.filter(status="active"):
        balances[allocation.partner_id] += allocation.balance
    snapshot = {f.partner_id: f.value for f in Fact.objects.filter(grain="day", period=today, metric="mdf_balance")}
    assert snapshot and snapshot == {p: v for p, v in balances.items() if v}


def test_the_demo_has_open_mdf_fraud_alerts_and_the_scorecard_shows_renewals_and_mdf(demo):
    from analytics import selectors
    from analytics.models import FraudAlert
    from mdf.models import FundClaim
    from partners.models import Partner

    open_mdf = FraudAlert.objects.filter(status="open", rule__code__startswith="mdf_")
    assert {"mdf_near_duplicate_invoice", "mdf_round_amount", "mdf_outside_activity_window"} <= set(
        open_mdf.values_list("rule__code", flat=True)
    )
    held = FundClaim.objects.get(vendor="Brochure Print House")
    assert open_mdf.filter(subject_key=f"mdf.fundclaim:{held.pk}").count() == 2

    from partners.models import Membership

    fabrikam = Partner.objects.get(slug="fabrikam")
    admin = Membership.objects.filter(partner=fabrikam, role="admin").first().user
    card = selectors.scorecard(user=admin, partner=fabrikam)
    tiles = dict(card["tiles"])
    assert (
        tiles["MDF balance"] == sum(a.balance for a in fabrikam.fund_allocations.filter(status="active"))
        and tiles["MDF balance"] > 0
    )
    this_month = card["trend"].rows[-1]
    assert "renewal_rate" in this_month and "mdf_roi" in this_month


def test_renewals_in_their_window_need_action_and_the_funnel_reaches_renewals(demo):
    from analytics import selectors
    from partners.access import ParentRole
    from partners.models import Membership, Partner
    from renewals.models import Renewal
    from tests.factories import parent_user

    renewal = Renewal.objects.filter(status__in=["open", "quoted"]).select_related("partner").order_by("term_end")[0]
    admin = Membership.objects.filter(partner=renewal.partner, role="admin").first().user
    rows = selectors.needs_action(user=admin, partner=renewal.partner).rows
    assert any(r["what"] == "Renewal in its window" and r["item"].startswith(renewal.number) for r in rows), rows
    other = Partner.objects.exclude(pk=renewal.partner_id).filter(memberships__role="admin").first()
    other_admin = Membership.objects.filter(partner=other, role="admin").first().user
    assert not [r for r in selectors.needs_action(user=other_admin, partner=other).rows if renewal.number in r["item"]]

    funnel = selectors.channel(user=parent_user(ParentRole.ADMIN, username="funnel-admin"), period="year")["funnel"]
    stages = {r["stage"]: r["count"] for r in funnel.rows}
    due = Renewal.objects.exclude(status="cancelled").filter(
        term_end__gte=selectors.period_bounds("year")[0], term_end__lte=timezone.now().date()
    )
    assert stages["Renewals due"] == due.count()
    assert "Renewals renewed" in stages
