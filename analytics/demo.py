"""The analytics part of seed_demo: tier requirements, a year of closed deals so the scorecards
show trends, a few fraud cases of different kinds (the sweep raises their alerts), deals that came
from an MDF-funded campaign (MDF ROI), and the facts refreshed over the last thirteen months.
Runs after mdf/demo.py. Idempotent."""

import datetime
from decimal import Decimal

from django.utils import timezone

from deals import services as deal_services
from deals.models import DealRegistration, ManagedBy, Opportunity, OpportunityFlow, OpportunityStage
from partners.models import ProgramTier

from . import facts, fraud
from .models import TierRequirement

HISTORY_PREFIX = "History:"
# (min win rate %, max hours to accept a lead, min won revenue over twelve months) by tier rank.
REQUIREMENTS = [(Decimal("20"), Decimal("72"), Decimal("50000")), (Decimal("30"), Decimal("48"), Decimal("150000"))]


def seed(context, stdout=None):
    say = stdout.write if stdout else (lambda msg: None)
    for tier, (win_rate, hours, revenue) in zip(ProgramTier.objects.order_by("rank"), REQUIREMENTS * 3, strict=False):
        TierRequirement.objects.get_or_create(
            tier=tier,
            defaults={
                "min_win_rate": win_rate + tier.rank * 5,
                "max_accept_hours": max(hours - tier.rank * 8, Decimal(12)),
                "min_revenue": revenue * tier.rank,
            },
        )
    _history(context)
    _fraud_cases(context)
    _mdf_results(context)
    _mdf_fraud_case(context)
    fraud.sync_rules()
    counts = fraud.sweep()
    today = timezone.now().date()
    facts.refresh(start=(today.replace(day=1) - datetime.timedelta(days=366)).replace(day=1), end=today)
    say(f"  facts refreshed; fraud sweep found {sum(counts.values())} finding(s)")


def _history(context):
    """Closed deals of the last eleven months, as they were recorded then (dates in the past)."""
    if Opportunity.objects.filter(name__startswith=HISTORY_PREFIX).exists():
        return
    now = timezone.now()
    rows = []
    for index, (_slug, partner) in enumerate(sorted(context["partners"].items())):
        customer = next(
            iter(c for c in context["customers"].values() if c.relationships.filter(partner=partner).exists())
        )
        for months_ago in range(1, 12):
            closed = now - datetime.timedelta(days=30 * months_ago + index)
            for n in range(1 + (months_ago + index) % 3):
                won = (n + months_ago + index) % 4 != 0
                rows.append(
                    Opportunity(
                        partner=partner,
                        flow=OpportunityFlow.PARTNER_MANAGED,
                        managed_by=ManagedBy.PARTNER,
                        name=f"{HISTORY_PREFIX} {customer.legal_name} #{months_ago}-{n}",
                        customer=customer,
                        stage=OpportunityStage.CLOSED_WON if won else OpportunityStage.CLOSED_LOST,
                        amount=Decimal(8000 + 1500 * ((months_ago * 7 + index * 3 + n) % 11)),
                        probability=100 if won else 0,
                        closed_at=closed,
                        created_at=closed - datetime.timedelta(days=40),
                        lost_reason="" if won else "Demo: lost on price.",
                    )
                )
    direct_customer = context["customers"].get("Tailwind Traders")
    for months_ago in range(1, 12):
        closed = now - datetime.timedelta(days=30 * months_ago + 2)
        rows.append(
            Opportunity(
                flow=OpportunityFlow.DIRECT,
                managed_by=ManagedBy.PARENT,
                name=f"{HISTORY_PREFIX} direct #{months_ago}",
                customer=direct_customer,
                stage=OpportunityStage.CLOSED_WON if months_ago % 3 else OpportunityStage.CLOSED_LOST,
                amount=Decimal(30000 + 2500 * (months_ago % 5)),
                probability=100 if months_ago % 3 else 0,
                closed_at=closed,
                created_at=closed - datetime.timedelta(days=50),
            )
        )
    Opportunity.objects.bulk_create(rows)


def _fraud_cases(context):
    """The issue's own story (registered at 12k, won at 950k, no order), near-identical names in a
    day, and a registration of a customer on the partner's own email domain."""
    people, products, staff = context["people"], context["products"], context["staff"]
    sku = next(iter(products))
    today = timezone.localdate()

    def register(user, name, domain, value="12000.00"):
        return deal_services.deal_registration_create(
            user=user,
            customer_name=name,
            customer_domain=domain,
            customer_country=user.membership.partner.country,
            estimated_value=Decimal(value),
            expected_close_date=today + datetime.timedelta(days=45),
            lines=[{"product": products[sku], "quantity": 5}],
            submit=True,
        )

    rep = people["tailspin-rep"]
    if not DealRegistration.objects.filter(customer_name="Blue Horizon Charter Flights").exists():
        registration = register(rep, "Blue Horizon Charter Flights", "bluehorizoncharter.example")
        deal_services.deal_registration_approve(user=staff["parent-admin"], registration=registration)
        opportunity = Opportunity.objects.get(registration=registration)
        deal_services.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("950000.00"))
    wingtip = people["wingtip-rep"]
    if not DealRegistration.objects.filter(customer_name__startswith="Globex").exists():
        for name in ("Globex Trading", "Globex Tradings", "Globex Tradng", "GlobEx Trading Co"):
            register(wingtip, name, "", value="5000.00")
    fabrikam = people["fabrikam-rep"]
    if not DealRegistration.objects.filter(customer_name="Fabrikam Holdings").exists():
        # The end customer is on the partner's own web domain.
        register(fabrikam, "Fabrikam Holdings", "holdings.fabrikam.example", value="7000.00")


def _mdf_results(context):
    """Two deals of the partner's MDF-funded campaign: one won (MDF-attributed revenue, so the
    scorecard shows an MDF ROI) and one open (MDF-attributed pipeline)."""
    from mdf import services as mdf_services
    from mdf.models import Campaign

    campaign = Campaign.objects.filter(fund_request__isnull=False).select_related("partner").order_by("pk").first()
    if campaign is None or DealRegistration.objects.filter(campaign=campaign).exists():
        return
    slug = campaign.partner.slug
    rep, admin, staff = context["people"][f"{slug}-rep"], context["people"][f"{slug}-admin"], context["staff"]
    sku = next(iter(context["products"]))
    today = timezone.localdate()
    for name, won in (("Litware Backup Pilot", "8200.00"), ("Litware Archive Expansion", None)):
        registration = deal_services.deal_registration_create(
            user=rep,
            customer_name=name,
            customer_domain="",
            customer_country=campaign.partner.country,
            estimated_value=Decimal("8000.00"),
            expected_close_date=today + datetime.timedelta(days=30),
            lines=[{"product": context["products"][sku], "quantity": 2}],
            submit=True,
        )
        mdf_services.campaign_attribute(user=admin, campaign=campaign, registration=registration)
        deal_services.deal_registration_approve(user=staff["parent-admin"], registration=registration)
        if won:
            opportunity = Opportunity.objects.get(registration=registration)
            deal_services.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal(won))


def _mdf_fraud_case(context):
    """An MDF claim awaiting review at a round amount, its invoice dated weeks before the activity:
    the claim_submitted check raises open alerts (mdf/demo.py's re-numbered agency invoice raises a
    near-duplicate invoice alert)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mdf import services as mdf_services
    from mdf.models import FundClaim, FundRequest

    if FundClaim.objects.filter(vendor="Brochure Print House").exists():
        return
    fund_request = FundRequest.objects.filter(partner__slug="contoso", status="approved").order_by("pk").first()
    if fund_request is None:
        return
    mdf_services.fund_claim_create(
        user=context["people"]["contoso-admin"],
        fund_request=fund_request,
        vendor="Brochure Print House",
        invoice_number="BPH-2210",
        invoice_date=fund_request.starts_on - datetime.timedelta(days=45),
        amount=Decimal("1000.00"),
        files=[(SimpleUploadedFile("bph-2210.pdf", b"%PDF-1.4 demo proof BPH-2210", "application/pdf"), "invoice")],
        submit=True,
    )
