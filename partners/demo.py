"""The demo channel of `seed_demo`: Helios Cloud's staff, five partners (one per business model)
with their people, the catalogue, and customers. Idempotent: what exists is left as it is."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from . import services
from .access import ParentRole, PartnerRole, forget_actor
from .models import (
    Customer,
    CustomerRelationship,
    CustomerStatus,
    Membership,
    Partner,
    PartnerStatus,
    ProductLine,
    ProgramTier,
    RelationshipKind,
)

PASSWORD = "demo-pass-2026"
User = get_user_model()

TIERS = [("Registered", 1, 60, 96, 1), ("Silver", 2, 90, 72, 2), ("Gold", 3, 120, 72, 3), ("Platinum", 4, 180, 48, 5)]
PRODUCT_LINES = [
    ("compute", "Compute"),
    ("storage", "Storage"),
    ("network", "Networking"),
    ("security", "Security"),
    ("backup", "Backup & recovery"),
]
PRODUCTS = [
    ("CMP-VM-S", "Virtual machine, small", "compute", "instance_month", "45.00"),
    ("CMP-VM-L", "Virtual machine, large", "compute", "instance_month", "180.00"),
    ("CMP-K8S", "Managed Kubernetes cluster", "compute", "instance_month", "420.00"),
    ("STO-OBJ", "Object storage", "storage", "gb_month", "0.02"),
    ("STO-BLK", "Block storage", "storage", "gb_month", "0.10"),
    ("NET-LB", "Load balancer", "network", "instance_month", "25.00"),
    ("NET-CDN", "Content delivery", "network", "gb_month", "0.05"),
    ("SEC-WAF", "Web application firewall", "security", "instance_month", "150.00"),
    ("SEC-SSO", "Single sign-on", "security", "seat_month", "4.00"),
    ("BCK-VAULT", "Backup vault", "backup", "gb_month", "0.04"),
    ("SRV-ONBOARD", "Onboarding service", "compute", "one_time", "2500.00"),
]
# slug, name, business model, HQ, tier, territories, expertise, branding
PARTNERS = [
    ("northwind", "Northwind Traders", "referral", "US", "Silver", ["US", "CA"], ["compute", "storage"], {}),
    ("contoso", "Contoso Ltd", "registration_parent", "GB", "Gold", ["GB", "IE"], ["compute", "network"], {}),
    (
        "fabrikam",
        "Fabrikam GmbH",
        "registration_retention",
        "DE",
        "Gold",
        ["DE", "AT", "CH"],
        ["storage", "backup"],
        {},
    ),
    (
        "tailspin",
        "Tailspin Toys Inc",
        "dual",
        "US",
        "Platinum",
        ["US", "MX"],
        ["compute", "security", "network"],
        {},
    ),
    (
        "wingtip",
        "Wingtip Toys SAS",
        "white_label",
        "FR",
        "Silver",
        ["FR", "BE"],
        ["compute", "storage", "security"],
        {"display_name": "Wingtip Cloud", "brand_color": "#7b2d8b"},
    ),
]
PARENT_STAFF = [
    ("parent-admin", ParentRole.ADMIN, True),
    ("channel-manager", ParentRole.CHANNEL_MANAGER, False),
    ("parent-support", ParentRole.SUPPORT, False),
    ("parent-finance", ParentRole.FINANCE, False),
    ("fraud-analyst", ParentRole.FRAUD_ANALYST, False),
]
CHANNEL_MANAGER_PARTNERS = ["northwind", "contoso", "tailspin"]
CUSTOMERS = {
    "northwind": [
        ("Blue Yonder Airlines", "blueyonderairlines.com", "US", "Aviation", "250-999", "active"),
        ("Coho Winery", "cohowinery.com", "US", "Food & beverage", "50-249", "prospect"),
        ("Lucerne Publishing", "lucernepublishing.com", "CA", "Media", "50-249", "active"),
    ],
    "contoso": [
        ("Adventure Works Cycles Ltd", "adventure-works.co.uk", "GB", "Retail", "250-999", "active"),
        ("Margie's Travel", "margiestravel.ie", "IE", "Travel", "1-49", "prospect"),
        ("Northwind Imports PLC", "northwindimports.co.uk", "GB", "Wholesale", "1000+", "active"),
    ],
    "fabrikam": [
        ("Alpine Ski House AG", "alpineskihouse.ch", "CH", "Leisure", "50-249", "active"),
        ("Proseware GmbH", "proseware.de", "DE", "Software", "250-999", "active"),
        ("Litware Österreich", "litware.at", "AT", "Software", "50-249", "prospect"),
        ("Woodgrove Bank AG", "woodgrovebank.de", "DE", "Finance", "1000+", "churned"),
    ],
    "tailspin": [
        ("Trey Research Inc", "treyresearch.net", "US", "Research", "250-999", "active"),
        ("Wide World Importers", "wideworldimporters.com", "US", "Logistics", "1000+", "active"),
        ("Graphic Design Institute", "graphicdesigninstitute.mx", "MX", "Education", "50-249", "prospect"),
    ],
    "wingtip": [
        ("Fourth Coffee SARL", "fourthcoffee.fr", "FR", "Food & beverage", "50-249", "active"),
        ("School of Fine Art", "schooloffineart.be", "BE", "Education", "250-999", "active"),
        ("Humongous Insurance SA", "humongousinsurance.fr", "FR", "Insurance", "1000+", "prospect"),
    ],
}


def _user(username, *, email=None, first_name="", last_name="", is_staff=False, is_superuser=False):
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": email or f"{username}@demo.example",
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


@transaction.atomic
def seed(stdout=None) -> dict:
    say = stdout.write if stdout else (lambda msg: None)
    tiers = {}
    for name, rank, protection_days, accept_hours, weight in TIERS:
        tiers[name], _ = ProgramTier.objects.get_or_create(
            name=name,
            defaults={
                "rank": rank,
                "protection_days": protection_days,
                "lead_accept_hours": accept_hours,
                "routing_weight": weight,
            },
        )
    lines = {}
    for code, name in PRODUCT_LINES:
        lines[code], _ = ProductLine.objects.get_or_create(code=code, defaults={"name": name})

    from quotes.models import Product

    products = {}
    for sku, name, line, unit, price in PRODUCTS:
        products[sku], _ = Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "product_line": lines[line],
                "unit": unit,
                "list_price": Decimal(price),
                "is_subscription": unit != "one_time",
            },
        )

    staff = {}
    for username, role, superuser in PARENT_STAFF:
        first, _, last = username.replace("-", " ").title().partition(" ")
        user = _user(username, first_name=first, last_name=last, is_staff=True, is_superuser=superuser)
        user.groups.add(Group.objects.get(name=role))
        forget_actor(user)
        staff[username] = user
    admin = staff["parent-admin"]

    partners, people = {}, {}
    for slug, name, model, country, tier, territories, expertise, branding in PARTNERS:
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            partner = services.partner_create(
                user=admin,
                name=name,
                slug=slug,
                business_model=model,
                country=country,
                tier=tiers[tier],
                territories=territories,
                expertise=[lines[c] for c in expertise],
                website=f"https://www.{slug}.example",
                **branding,
            )
            services.partner_transition(user=admin, partner=partner, status=PartnerStatus.ONBOARDING)
            services.partner_transition(user=admin, partner=partner, status=PartnerStatus.ACTIVE)
            say(f"  partner {slug} ({model})")
        partners[slug] = partner
        for suffix, role in (("admin", PartnerRole.ADMIN), ("rep", PartnerRole.REP), ("support", PartnerRole.SUPPORT)):
            username = f"{slug}-{suffix}"
            user = _user(username, first_name=name.split()[0], last_name=suffix.title())
            Membership.objects.get_or_create(
                user=user, defaults={"partner": partner, "role": role, "invited_by": admin}
            )
            people[username] = user
        if slug in CHANNEL_MANAGER_PARTNERS:
            services.partner_manager_grant(user=admin, partner=partner, manager=staff["channel-manager"])

    customers = {}
    for slug, rows in CUSTOMERS.items():
        partner = partners[slug]
        rep = people[f"{slug}-rep"]
        for index, (legal_name, domain, country, industry, size, status) in enumerate(rows):
            customer = Customer.objects.filter(legal_name=legal_name).first()
            if customer is None:
                customer = Customer.objects.create(
                    legal_name=legal_name,
                    domain=domain,
                    country=country,
                    industry=industry,
                    size=size,
                    status=status,
                    owner_partner=None if partner.agreement.customer_owner == "parent" else partner,
                    created_by=rep,
                )
                CustomerRelationship.objects.create(
                    customer=customer,
                    partner=partner,
                    kind=RelationshipKind.ORIGINATING,
                    # The rep manages the first two; the third is the manager's, invisible to the rep.
                    owner=rep if index < 2 else people[f"{slug}-admin"],
                )
            customers[legal_name] = customer
    # The parent's own direct customers, owned by nobody in the channel.
    for legal_name, domain, country in [
        ("Tailwind Traders", "tailwindtraders.com", "US"),
        ("Relecloud", "relecloud.com", "DE"),
    ]:
        customers[legal_name], _ = Customer.objects.get_or_create(
            legal_name=legal_name,
            defaults={"domain": domain, "country": country, "status": CustomerStatus.ACTIVE, "created_by": admin},
        )
    return {
        "tiers": tiers,
        "lines": lines,
        "products": products,
        "staff": staff,
        "partners": partners,
        "people": people,
        "customers": customers,
    }
