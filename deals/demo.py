"""Demo data of deals for `seed_demo`: routing rules; for every demo partner leads (offered,
accepted), registrations in several states (draft, submitted, returned, approved, won) and their
opportunities and commissions; a live conflict between northwind and tailspin; a direct
opportunity of the parent. Idempotent: a partner that already has registrations is left alone."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from partners import ledger
from partners.models import Commission, CommissionStatus

from . import services
from .models import DealRegistration, Lead, LeadSource, Opportunity, OpportunityFlow, RoutingRule

# slug: (new prospect to register, its domain, country, sku)
PROSPECTS = {
    "northwind": ("Coho Vineyard & Winery", "cohovineyard.com", "US", "CMP-VM-S"),
    "contoso": ("Bellows College Ltd", "bellowscollege.ac.uk", "GB", "NET-LB"),
    "fabrikam": ("Lamna Healthcare GmbH", "lamnahealthcare.de", "DE", "STO-OBJ"),
    "tailspin": ("Consolidated Messenger Inc", "consolidatedmessenger.com", "US", "SEC-WAF"),
    "wingtip": ("Datum Corporation SA", "adatum.fr", "FR", "SEC-SSO"),
}
# Offered and accepted leads: (company, domain, country, product line).
LEADS = {
    "northwind": [
        ("Southridge Video", "southridgevideo.com", "US", "compute"),
        ("VanArsdel Ltd", "vanarsdel.ca", "CA", "storage"),
    ],
    "contoso": [
        ("Fabrikam Residences", "fabrikamresidences.co.uk", "GB", "network"),
        ("Munson's Pickles", "munsons.ie", "IE", "compute"),
    ],
    "fabrikam": [
        ("Nod Publishers GmbH", "nodpublishers.de", "DE", "backup"),
        ("First Up Consultants", "firstupconsultants.at", "AT", "storage"),
    ],
    "tailspin": [
        ("Woodgrove Foods", "woodgrovefoods.com", "US", "security"),
        ("Baldwin Museum", "baldwinmuseum.mx", "MX", "compute"),
    ],
    "wingtip": [
        ("Contoso Pharmaceuticals SA", "contosopharma.fr", "FR", "security"),
        ("Olympia Beauty", "olympiabeauty.be", "BE", "storage"),
    ],
}


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@transaction.atomic
def seed(context, stdout=None):
    say = stdout.write if stdout else (lambda msg: None)
    staff, partners, people, products, lines = (
        context["staff"],
        context["partners"],
        context["people"],
        context["products"],
        context["lines"],
    )
    admin, manager, finance = staff["parent-admin"], staff["channel-manager"], staff["parent-finance"]

    if not RoutingRule.objects.exists():
        RoutingRule.objects.create(name="Territory and expertise", priority=10)
        RoutingRule.objects.create(name="Territory only", priority=20, require_expertise=False)

    for slug, partner in partners.items():
        if DealRegistration.objects.for_partner(partner.pk).exists():
            continue
        rep, padmin = people[f"{slug}-rep"], people[f"{slug}-admin"]
        own_customers = [c for c in context["customers"].values() if c.relationships.filter(partner=partner).exists()]
        sku = PROSPECTS[slug][3]

        def register(*, customer=None, name=None, domain="", country=None, value, sku=sku, submit=True, user=rep):
            fields = {"customer": customer} if customer else {}
            if name:
                fields |= {"customer_name": name, "customer_domain": domain, "customer_country": country}
            return services.deal_registration_create(
                user=user,
                lines=[{"product": products[sku], "quantity": 10}],
                estimated_value=Decimal(value),
                expected_close_date=_days(60),
                notes="Demo registration.",
                submit=submit,
                **fields,
            )

        # Approved and then won: the customer is the partner's first one.
        won = register(customer=own_customers[0], value="24000.00")
        services.deal_registration_approve(user=admin, registration=won, reason="Demo: clean registration.")
        opportunity = Opportunity.objects.get(registration=won)
        closer = admin if opportunity.managed_by == "parent" else rep
        services.opportunity_mark_won(user=closer, opportunity=opportunity, amount=Decimal("26500.00"))
        # Approved and protected, still open.
        approved = register(customer=own_customers[1], value="18000.00")
        services.deal_registration_approve(user=admin, registration=approved)
        # A new prospect, submitted and waiting for review.
        name, domain, country, _ = PROSPECTS[slug]
        register(name=name, domain=domain, country=country, value="9500.00")
        # Returned for changes, and a draft.
        returned = register(name=f"{name.split()[0]} Labs", domain=f"labs.{domain}", country=country, value="4200.00")
        services.deal_registration_return(user=admin, registration=returned, reason="Demo: add the expected seats.")
        register(name=f"{name.split()[0]} Studio", country=country, value="3100.00", submit=False)

        # Leads: one accepted, one offered and waiting for an answer.
        for index, (company, lead_domain, lead_country, line) in enumerate(LEADS[slug]):
            lead = services.lead_create(
                user=admin,
                company_name=company,
                company_domain=lead_domain,
                country=lead_country,
                source=LeadSource.CAMPAIGN if index == 0 else LeadSource.WEB,
                product_interest=lines[line],
                contact_name="Pat Example",
                contact_email=f"pat@{lead_domain}",
                description="Demo lead from the autumn campaign.",
            )
            services.lead_forward(user=admin, lead=lead, partner=partner, reason="Demo: local presence.")
            if index == 0:
                services.lead_accept(user=rep, lead=lead)
        # The partner's own lead.
        services.lead_create(
            user=padmin, company_name=f"{partner.name.split()[0]} Referral Prospect", country=partner.country
        )
        say(f"  deals for {slug}")

    # A live conflict: northwind and tailspin register the same US prospect (name and domain variants).
    if not DealRegistration.objects.filter(normalized_name="litware").exists():
        for slug, name, domain in (
            ("northwind", "Litware, Inc.", "https://www.litware.com/"),
            ("tailspin", "LITWARE INCORPORATED", "sales.litware.com"),
        ):
            services.deal_registration_create(
                user=people[f"{slug}-rep"],
                customer_name=name,
                customer_domain=domain,
                customer_country="US",
                estimated_value=Decimal("15000.00"),
                expected_close_date=_days(45),
                lines=[{"product": products["CMP-VM-L"], "quantity": 20}],
                submit=True,
            )
        say("  live conflict: northwind vs tailspin for Litware")

    # The parent's direct business, and a queued lead for routing.
    if not Opportunity.objects.filter(flow=OpportunityFlow.DIRECT).exists():
        services.opportunity_create(
            user=admin,
            name="Tailwind Traders platform renewal",
            amount=Decimal("120000.00"),
            customer=context["customers"]["Tailwind Traders"],
            expected_close_date=_days(30),
        )
    if not Lead.objects.filter(partner__isnull=True, company_name="Alpine Outfitters").exists():
        services.lead_create(
            user=manager,
            company_name="Alpine Outfitters",
            company_domain="alpineoutfitters.com",
            country="US",
            source=LeadSource.PARENT_SALES,
            product_interest=lines["compute"],
            contact_name="Sam Example",
            contact_email="sam@alpineoutfitters.com",
        )

    # One record per customer: tailspin asks for the parent's own Relecloud; the request waits for the
    # parent's decision (admin "Customer claims"). Asking again finds the same request.
    from partners import services as partner_services

    relecloud = context["customers"]["Relecloud"]
    partner_services.customer_create(
        user=people["tailspin-rep"], legal_name="Relecloud GmbH", domain=relecloud.domain, country=relecloud.country
    )
    # The parent takes a queued lead for its own direct sales.
    if not Lead.objects.filter(company_name="Nod Publishers").exists():
        taken = services.lead_create(
            user=manager,
            company_name="Nod Publishers",
            company_domain="nodpublishers.com",
            country="US",
            source=LeadSource.PARENT_SALES,
            product_interest=lines["compute"],
            contact_name="Robin Example",
            contact_email="robin@nodpublishers.com",
        )
        services.lead_take(user=admin, lead=taken)
    say("  channel integrity: a customer claim, a lead taken for direct sales")

    # Finance has approved and paid some of the ledger (once: later runs leave the ledger as it is).
    already_worked = Commission.objects.exclude(status=CommissionStatus.ACCRUED).exists()
    for entry in (
        [] if already_worked else Commission.objects.filter(status=CommissionStatus.ACCRUED).order_by("pk")[:3]
    ):
        entry = ledger.commission_approve(user=finance, commission=entry)
        if entry.partner.slug in ("northwind", "contoso"):
            ledger.commission_mark_paid(user=finance, commission=entry, reference="DEMO-PAY-001")
