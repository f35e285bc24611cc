"""The benchmark's data: a seeded, COPY-based generator of a large channel on PostgreSQL.

One function per domain (`DOMAINS`), each reading and extending a shared `Context`, so a new app
adds its tables by appending one function (contracts for renewals and MDF claims are not written
yet: those apps are being built as this is written). Big tables are written with `COPY` through the
models' own column lists and field defaults; the small ones (partners, users) with `bulk_create`.

At `scale=1.0`: 1,000 partners (ten large ones with 1 % of the rows each, the rest lognormal),
10,000 partner users, 1,000,000 deal registrations, 1,000,000 leads, 200,000 quotes and 200,000
orders with 1–3 lines each, 200,000 cases. Run it on a database that has `seed_demo`'s reference
data (tiers, product lines, products, price books, the parent's users and queues).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction

BENCH_PASSWORD = "bench-pass-2026"
MARKER_SLUG = "bench-0000"
LARGE_PARTNERS = 10
ROLES_PER_PARTNER = ["admin", "manager", "rep", "rep", "rep", "rep", "rep", "rep", "support", "marketing"]
COUNTRIES = ["US", "DE", "GB", "FR", "NL", "SE", "ES", "IT", "CA", "AU", "JP", "BR"]
WORDS = [
    "acme",
    "apex",
    "arbor",
    "aster",
    "atlas",
    "aurora",
    "beacon",
    "birch",
    "blue",
    "bright",
    "cedar",
    "cobalt",
    "coral",
    "crest",
    "delta",
    "eagle",
    "ember",
    "falcon",
    "fern",
    "fjord",
    "forge",
    "garnet",
    "granite",
    "harbor",
    "hazel",
    "helix",
    "indigo",
    "iris",
    "jade",
    "juniper",
    "kestrel",
    "lark",
    "laurel",
    "lumen",
    "maple",
    "meadow",
    "mercury",
    "nimbus",
    "north",
    "oak",
    "onyx",
    "orbit",
    "pine",
    "polar",
    "prairie",
    "quartz",
    "raven",
    "ridge",
    "river",
    "sable",
    "sage",
    "sierra",
    "silver",
    "spruce",
    "summit",
    "tern",
    "tidal",
    "topaz",
    "trail",
    "vertex",
    "willow",
    "zenith",
]
SUFFIXES = ["Inc", "GmbH", "Ltd", "LLC", "SA", "BV", "AB", "Group", "Systems", "Labs"]


@dataclass
class BenchPartner:
    id: int
    slug: str
    weight: float
    business_model: str
    service_model: str = ""
    users: dict = field(default_factory=dict)  # role -> [user ids]
    customers: list = field(default_factory=list)
    queue_id: int | None = None

    def user_of(self, rng, role):
        ids = self.users.get(role) or self.users["admin"]
        return ids[rng.randrange(len(ids))]


@dataclass
class Context:
    scale: float
    seed: int
    rng: random.Random
    now: datetime
    partners: list = field(default_factory=list)
    product_ids: list = field(default_factory=list)
    product_line_ids: list = field(default_factory=list)
    price_book_id: int | None = None
    names: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    def count(self, full_size: int) -> int:
        return max(int(full_size * self.scale), 1)

    def split(self, total: int) -> list[int]:
        """`total` rows over the partners by weight (the large ten get 1 % each at any scale)."""
        counts = [int(total * p.weight) for p in self.partners]
        counts[0] += total - sum(counts)
        return counts

    def created_at(self, days_back=1095) -> datetime:
        return self.now - timedelta(
            seconds=self.rng.randrange(days_back * 86400), microseconds=self.rng.randrange(10**6)
        )

    def company(self):
        return self.names[self.rng.randrange(len(self.names))]


# COPY -------------------------------------------------------------------------------------------


def _db_value(value):
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date | Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def _fillers(model, given):
    """Columns the caller did not give: the field's default, or NULL; a required one is an error."""
    out = []
    for f in model._meta.concrete_fields:
        if f.attname in given or f.primary_key and f.attname == "id":
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = datetime.now(UTC)
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif isinstance(f, models.CharField | models.TextField):
            value = ""
        else:
            raise ValueError(f"bench: {model.__name__}.{f.attname} needs a value")
        out.append((f.column, _db_value(value)))
    return out


def copy_rows(model, columns: list[str], rows, chunk=100_000) -> int:
    """COPY rows (tuples in the order of `columns`, attnames) into the model's table; returns the count."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fillers = _fillers(model, set(columns))
    names = [by_attname[c].column for c in columns] + [c for c, _ in fillers]
    extra = [v for _, v in fillers]
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f"COPY \"{model._meta.db_table}\" ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    total = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    cursor = connection.cursor()

    def flush():
        buffer.seek(0)
        cursor.cursor.copy_expert(sql, buffer)
        buffer.seek(0)
        buffer.truncate()

    pending = 0
    for row in rows:
        writer.writerow([_db_value(v) for v in row] + extra)
        pending += 1
        if pending >= chunk:
            flush()
            total += pending
            pending = 0
    if pending:
        flush()
        total += pending
    if "id" in columns:
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
        )
    return total


def next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


# Domains ----------------------------------------------------------------------------------------


def gen_reference(ctx: Context):
    """What the demo seed made and the bench reuses: products, product lines, a price book, names."""
    from deals.matching import customer_keys
    from partners.matching import normalize_company_name, normalize_domain
    from partners.models import ProductLine
    from quotes.models import PriceBook, Product

    ctx.product_ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    ctx.product_line_ids = list(ProductLine.objects.order_by("id").values_list("id", flat=True))
    book = PriceBook.objects.filter(currency="USD").order_by("-is_default", "id").first()
    if not ctx.product_ids or book is None:
        raise SystemExit("bench: run `manage.py seed_demo --force` first (products and a price book)")
    ctx.price_book_id = book.pk
    rng = random.Random(ctx.seed)
    for i in range(max(2000, ctx.count(40_000))):
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {SUFFIXES[i % len(SUFFIXES)]}"
        domain = normalize_domain(f"{name.split()[0].lower()}{name.split()[1].lower()}{i}.example")
        country = COUNTRIES[i % len(COUNTRIES)]
        normalized, domain_key = customer_keys(name, domain)
        ctx.names.append((name, domain, country, normalized, domain_key, normalize_company_name(name)))


def gen_partners(ctx: Context):
    """Partners (ten large, the rest lognormal), agreements, territories, 10 people each, a default
    case queue each, and the channel manager granted seven of them."""
    from guardian.shortcuts import assign_perm

    from cases.models import CaseQueue, QueueKind
    from partners.access import ParentRole
    from partners.agreement import PRESETS, BusinessModel
    from partners.models import Agreement, Membership, Partner, PartnerStatus, ProgramTier, Territory

    rng = ctx.rng
    n = max(12, min(1000, int(round(1000 * min(1.0, ctx.scale * 10)))))
    tiers = list(ProgramTier.objects.order_by("rank"))
    models_ = list(BusinessModel.values)
    raw = [rng.lognormvariate(math.log(575), 0.9) for _ in range(n - LARGE_PARTNERS)]
    small_share = 1.0 - 0.01 * LARGE_PARTNERS
    weights = [0.01] * LARGE_PARTNERS + [w / sum(raw) * small_share for w in raw]
    partners = Partner.objects.bulk_create(
        [
            Partner(
                name=f"Bench Partner {i:04d}",
                slug=f"bench-{i:04d}",
                status=PartnerStatus.ACTIVE,
                tier=tiers[i % len(tiers)] if tiers else None,
                business_model=models_[i % len(models_)],
                country=COUNTRIES[i % len(COUNTRIES)],
                activated_at=ctx.now - timedelta(days=1100),
                created_at=ctx.now - timedelta(days=1100),
            )
            for i in range(n)
        ]
    )
    Agreement.objects.bulk_create([Agreement(partner=p, **PRESETS[BusinessModel(p.business_model)]) for p in partners])
    Territory.objects.bulk_create([Territory(partner=p, country=p.country) for p in partners])
    User = get_user_model()
    password = make_password(BENCH_PASSWORD)
    users = User.objects.bulk_create(
        [
            User(username=f"{p.slug}-{role}{j}", email=f"{p.slug}-{role}{j}@bench.example", password=password)
            for p in partners
            for j, role in enumerate(ROLES_PER_PARTNER)
        ]
    )
    memberships = []
    for i, p in enumerate(partners):
        agreement = PRESETS[BusinessModel(p.business_model)]
        bp = BenchPartner(p.pk, p.slug, weights[i], p.business_model, service_model=agreement["service_model"])
        for j, role in enumerate(ROLES_PER_PARTNER):
            user = users[i * len(ROLES_PER_PARTNER) + j]
            bp.users.setdefault(role, []).append(user.pk)
            memberships.append(Membership(user=user, partner=p, role=role))
        ctx.partners.append(bp)
    Membership.objects.bulk_create(memberships)
    queues = CaseQueue.objects.bulk_create(
        [CaseQueue(name=f"{p.name} support", kind=QueueKind.PARTNER, partner=p, is_default=True) for p in partners]
    )
    for bp, queue in zip(ctx.partners, queues, strict=True):
        bp.queue_id = queue.pk
    manager, _ = User.objects.get_or_create(
        username="bench-channel-manager", defaults={"is_staff": True, "email": "bench-cm@bench.example"}
    )
    manager.set_password(BENCH_PASSWORD)
    manager.save()
    manager.groups.add(Group.objects.get(name=ParentRole.CHANNEL_MANAGER))
    # One large partner and six mid-sized ones, like the 7 partners / ~11.7k rows.
    for p in [partners[3], *partners[LARGE_PARTNERS + 5 : LARGE_PARTNERS + 11]]:
        assign_perm("partners.manage_partner", manager, p)


def gen_customers(ctx: Context):
    """A customer per ten registrations of each partner, each with an originating relationship."""
    from partners.matching import normalize_company_name, registrable_domain
    from partners.models import Customer, CustomerRelationship, RelationshipKind

    rng = ctx.rng
    counts = ctx.split(ctx.count(100_000))
    start = next_id(Customer)
    rels = []

    def customers():
        cid = start
        for bp, count in zip(ctx.partners, counts, strict=True):
            for _ in range(max(count, 3)):
                name, domain, country, _n, _d, _normalized = ctx.company()
                created = ctx.created_at()
                owner = bp.user_of(rng, "rep")
                bp.customers.append(cid)
                rels.append((cid, bp.id, RelationshipKind.ORIGINATING, created.date(), owner))
                # One record per customer: the name and the domain are unique within a country, as
                # the model's constraints require of real data.
                legal = f"{name} {cid}"
                domain = f"c{cid}-{domain}"
                yield (
                    cid,
                    legal,
                    normalize_company_name(legal),
                    domain,
                    registrable_domain(domain),
                    country,
                    "active",
                    bp.id,
                    owner,
                    created,
                    created,
                )
                cid += 1

    cols = ["id", "legal_name", "normalized_name", "domain", "domain_key", "country", "status", "owner_partner_id"]
    copy_rows(Customer, [*cols, "created_by_id", "created_at", "updated_at"], customers())
    copy_rows(CustomerRelationship, ["customer_id", "partner_id", "kind", "since", "owner_id"], rels)


REGISTRATION_STATUSES = [
    ("approved", 20),
    ("won", 25),
    ("lost", 12),
    ("expired", 15),
    ("submitted", 6),
    ("draft", 6),
    ("rejected", 6),
    ("returned", 2),
    ("withdrawn", 4),
    ("cancelled", 4),
]


def _weighted(rng, choices):
    values = [v for v, _ in choices]
    weights = [w for _, w in choices]
    return lambda: rng.choices(values, weights)[0]


def gen_registrations(ctx: Context):
    from deals.models import DealRegistration, DealRegistrationLine

    rng = ctx.rng
    status_of = _weighted(rng, REGISTRATION_STATUSES)
    counts = ctx.split(ctx.count(1_000_000))
    start = next_id(DealRegistration)
    lines = []

    def rows():
        rid = start
        for bp, count in zip(ctx.partners, counts, strict=True):
            for _ in range(count):
                name, domain, country, normalized, domain_key, _ = ctx.company()
                created = ctx.created_at()
                status = status_of()
                submitted = created + timedelta(hours=2) if status != "draft" else None
                approved = protected = None
                if status in ("approved", "won", "lost", "expired", "cancelled"):
                    approved = created + timedelta(days=2)
                    # Approved ones: mostly protected into the future, some already past (the expiry task's work).
                    protected = (
                        ctx.now + timedelta(days=rng.randrange(-20, 90))
                        if status == "approved"
                        else approved + timedelta(days=90)
                    )
                customer = bp.customers[rng.randrange(len(bp.customers))] if rng.random() < 0.3 else None
                if rng.random() < 0.1:
                    lines.append((bp.id, rid, ctx.product_ids[rid % len(ctx.product_ids)], rng.randint(1, 50)))
                yield (
                    rid,
                    bp.id,
                    bp.user_of(rng, "rep"),
                    status,
                    customer,
                    name,
                    domain,
                    country,
                    normalized,
                    domain_key,
                    Decimal(rng.randrange(1000, 500_000)),
                    "USD",
                    (created + timedelta(days=rng.randrange(30, 180))).date(),
                    rng.random() < 0.03,
                    submitted,
                    approved,
                    approved,
                    protected,
                    created,
                    created,
                )
                rid += 1

    columns = [
        "id",
        "partner_id",
        "created_by_id",
        "status",
        "customer_id",
        "customer_name",
        "customer_domain",
        "customer_country",
        "normalized_name",
        "domain_key",
        "estimated_value",
        "currency",
        "expected_close_date",
        "has_conflict",
        "submitted_at",
        "approved_at",
        "decided_at",
        "protected_until",
        "created_at",
        "updated_at",
    ]
    copy_rows(DealRegistration, columns, rows())
    copy_rows(DealRegistrationLine, ["partner_id", "registration_id", "product_id", "quantity"], lines)


def gen_leads(ctx: Context):
    """Leads: 5 % in the parent's queue, 10 % offered (with a pending offer), the rest accepted or
    disqualified."""
    from deals.models import Lead, LeadOffer

    rng = ctx.rng
    counts = ctx.split(ctx.count(1_000_000))
    start = next_id(Lead)
    offers = []
    status_of = _weighted(rng, [("accepted", 60), ("disqualified", 25), ("offered", 10), ("new", 5)])

    def rows():
        lid = start
        for bp, count in zip(ctx.partners, counts, strict=True):
            for _ in range(count):
                name, domain, country, *_ = ctx.company()
                created = ctx.created_at()
                status = status_of()
                partner = None if status == "new" else bp.id
                owner = bp.user_of(rng, "rep") if status == "accepted" else None
                if status == "offered":
                    deadline = ctx.now + timedelta(hours=rng.randrange(-12, 72))
                    offers.append((lid, bp.id, "pending", created, deadline))
                yield (
                    lid,
                    partner,
                    rng.choice(["campaign", "web", "parent_sales", "partner"]),
                    status,
                    name,
                    domain,
                    country,
                    ctx.product_line_ids[lid % len(ctx.product_line_ids)] if ctx.product_line_ids else None,
                    f"Contact {lid}",
                    f"contact{lid}@{domain}",
                    owner,
                    created + timedelta(days=1) if status == "accepted" else None,
                    created,
                    created,
                )
                lid += 1

    columns = [
        "id",
        "partner_id",
        "source",
        "status",
        "company_name",
        "company_domain",
        "country",
        "product_interest_id",
        "contact_name",
        "contact_email",
        "owner_id",
        "accepted_at",
        "created_at",
        "updated_at",
    ]
    copy_rows(Lead, columns, rows())
    copy_rows(LeadOffer, ["lead_id", "partner_id", "status", "offered_at", "deadline"], offers)


def _lines(rng, ctx, owner_id, bp, lines):
    subtotal = Decimal("0.00")
    for position in range(1, rng.randint(1, 3) + 1):
        quantity = rng.randint(1, 20)
        price = Decimal(rng.randrange(50, 5000))
        net = price * quantity
        subtotal += net
        lines.append(
            (bp.id, owner_id, position, ctx.product_ids[rng.randrange(len(ctx.product_ids))], quantity, price, net)
        )
    return subtotal


def gen_quotes_orders(ctx: Context):
    from quotes.models import Order, OrderLine, Quote, QuoteLine

    rng = ctx.rng
    quote_status = _weighted(rng, [("draft", 15), ("sent", 25), ("accepted", 30), ("expired", 20), ("rejected", 10)])
    order_status = _weighted(
        rng,
        [("fulfilled", 60), ("submitted", 10), ("in_review", 5), ("approved", 5), ("cancelled", 10), ("declined", 10)],
    )
    line_cols = ["partner_id", None, "position", "product_id", "quantity", "unit_price", "net_amount"]

    for model, line_model, parent_col, full in (
        (Quote, QuoteLine, "quote_id", 200_000),
        (Order, OrderLine, "order_id", 200_000),
    ):
        counts = ctx.split(ctx.count(full))
        start = next_id(model)
        lines = []

        def rows(model=model, counts=counts, start=start, lines=lines):
            oid = start
            for bp, count in zip(ctx.partners, counts, strict=True):
                for _ in range(count):
                    created = ctx.created_at()
                    subtotal = _lines(rng, ctx, oid, bp, lines)
                    customer = bp.customers[rng.randrange(len(bp.customers))]
                    creator = bp.user_of(rng, "rep")
                    if model is Quote:
                        yield (
                            oid,
                            bp.id,
                            customer,
                            creator,
                            ctx.price_book_id,
                            "USD",
                            uuid.UUID(int=rng.getrandbits(128)),
                            f"Q-{oid:05d}",
                            quote_status(),
                            subtotal,
                            subtotal,
                            (created + timedelta(days=30)).date(),
                            created,
                            created,
                        )
                    else:
                        status = order_status()
                        yield (
                            oid,
                            bp.id,
                            customer,
                            creator,
                            rng.choice(["api", "portal", "quote"]),
                            status,
                            ctx.price_book_id,
                            "USD",
                            subtotal,
                            subtotal,
                            created + timedelta(minutes=5),
                            created,
                            created,
                        )
                    oid += 1

        if model is Quote:
            columns = [
                "id",
                "partner_id",
                "customer_id",
                "created_by_id",
                "price_book_id",
                "currency",
                "chain",
                "base_number",
                "status",
                "subtotal",
                "total",
                "valid_until",
                "created_at",
                "updated_at",
            ]
        else:
            columns = [
                "id",
                "partner_id",
                "customer_id",
                "created_by_id",
                "source",
                "status",
                "price_book_id",
                "currency",
                "subtotal",
                "total",
                "submitted_at",
                "created_at",
                "updated_at",
            ]
        copy_rows(model, columns, rows())
        copy_rows(line_model, [c or parent_col for c in line_cols], lines)


def gen_cases(ctx: Context):
    from cases.models import Case

    rng = ctx.rng
    counts = ctx.split(ctx.count(200_000))
    status_of = _weighted(
        rng,
        [
            ("closed", 60),
            ("resolved", 10),
            ("new", 10),
            ("assigned", 8),
            ("in_progress", 8),
            ("waiting_on_customer", 4),
        ],
    )

    def rows():
        for bp, count in zip(ctx.partners, counts, strict=True):
            for _ in range(count):
                created = ctx.created_at()
                status = status_of()
                open_ = status not in ("closed", "resolved")
                due = (ctx.now + timedelta(hours=rng.randrange(-48, 96))) if open_ else created + timedelta(days=3)
                yield (
                    bp.id,
                    bp.customers[rng.randrange(len(bp.customers))],
                    rng.choice(["phone", "email", "web", "partner"]),
                    rng.choice(["billing", "technical", "account_change", "complaint"]),
                    rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    f"Case about {rng.choice(WORDS)} {rng.choice(WORDS)}",
                    status,
                    bp.service_model or "partner_only",
                    "partner",
                    bp.queue_id,
                    bp.user_of(rng, "support") if status != "new" else None,
                    bp.user_of(rng, "rep"),
                    due - timedelta(days=2),
                    due,
                    created + timedelta(days=2) if not open_ else None,
                    created + timedelta(days=4) if status == "closed" else None,
                    "resolved" if status == "closed" else "",
                    created,
                    created,
                )

    columns = [
        "partner_id",
        "customer_id",
        "origin",
        "category",
        "priority",
        "subject",
        "status",
        "service_model",
        "owner_party",
        "queue_id",
        "assignee_id",
        "created_by_id",
        "first_response_due_at",
        "resolution_due_at",
        "resolved_at",
        "closed_at",
        "close_reason",
        "created_at",
        "updated_at",
    ]
    copy_rows(Case, columns, rows())


# The order matters: later domains use the partners, users and customers of earlier ones.
# Renewals (1M contracts) and MDF (200k claims) append their own function here once those apps exist.
DOMAINS = [
    ("reference", gen_reference),
    ("partners", gen_partners),
    ("customers", gen_customers),
    ("registrations", gen_registrations),
    ("leads", gen_leads),
    ("quotes_orders", gen_quotes_orders),
    ("cases", gen_cases),
]


def generated() -> bool:
    from partners.models import Partner

    return Partner.objects.filter(slug=MARKER_SLUG).exists()


def generate(*, scale: float = 1.0, seed: int = 2026, stdout=print, analyze=True) -> Context:
    """Write the whole data set (in one transaction) and ANALYZE it; returns the context."""
    ctx = Context(scale=scale, seed=seed, rng=random.Random(seed), now=datetime.now(UTC))
    with transaction.atomic():
        for name, func in DOMAINS:
            started = time.perf_counter()
            func(ctx)
            ctx.timings[name] = time.perf_counter() - started
            stdout(f"  {name:<14} {ctx.timings[name]:7.1f} s")
    if analyze and connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        ctx.timings["vacuum_analyze"] = time.perf_counter() - started
        stdout(f"  {'vacuum/analyze':<14} {ctx.timings['vacuum_analyze']:7.1f} s")
    return ctx
