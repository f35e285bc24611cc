"""The benchmark's data: a seeded, COPY-based generator of a large channel on PostgreSQL.

One function per domain (`DOMAINS`), each reading and extending a shared `Context`, so a new app
adds its tables by appending one function. Big tables are written with `COPY` through the models'
own column lists and field defaults (the largest from ready-made CSV lines, `copy_lines`); the
small ones (partners, users, fund programs) with `bulk_create`.

At `scale=1.0`: 1,000 partners (ten large ones with 1 % of the rows each, the rest lognormal),
10,000 partner users, 1,000,000 deal registrations, 1,000,000 leads, 200,000 quotes and 200,000
orders with 1–3 lines each, 200,000 cases, 1,000,000 renewal contracts (a line per term, the
renewals of earlier terms, and the customers they need beyond the 100,000 of the registrations),
and 200,000 MDF claims on their fund requests, allocations and quarterly fund programs (for the
partners whose marketing model lets them request funds). Run it on a database that has
`seed_demo`'s reference data (tiers, product lines, products, price books, the parent's users and
queues).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import threading
import time
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from queue import Full, Queue

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

    def split(self, total: int, only=None) -> list[int]:
        """`total` rows over the partners by weight (the large ten get 1 % each at any scale). With
        `only` (a predicate on a BenchPartner), over those partners alone, their weights scaled up to
        the whole (the others get 0): rows that only some business models may have."""
        if only is None:
            counts = [int(total * p.weight) for p in self.partners]
            counts[0] += total - sum(counts)
            return counts
        chosen = [bool(only(p)) for p in self.partners]
        if not any(chosen):
            return [0] * len(self.partners)
        share = sum(p.weight for p, keep in zip(self.partners, chosen, strict=True) if keep)
        counts = [int(total * p.weight / share) if keep else 0 for p, keep in zip(self.partners, chosen, strict=True)]
        counts[chosen.index(True)] += total - sum(counts)
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


def _copy_statement(model, columns: list[str]) -> tuple[str, list]:
    """The COPY statement for `columns` (attnames) plus the fillers, and the fillers' values."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fillers = _fillers(model, set(columns))
    names = [by_attname[c].column for c in columns] + [c for c, _ in fillers]
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f"COPY \"{model._meta.db_table}\" ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    return sql, [v for _, v in fillers]


def _reset_sequence(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
        )


def copy_rows(model, columns: list[str], rows, chunk=100_000) -> int:
    """COPY rows (tuples in the order of `columns`, attnames) into the model's table; returns the count."""
    sql, extra = _copy_statement(model, columns)
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
        _reset_sequence(model)
    return total


def copy_lines(model, columns: list[str], lines, chunk=100_000) -> int:
    """`copy_rows` for the biggest tables: each row is one CSV line already (no newline), its values
    in the order of `columns` (`_line` makes one of a tuple; an f-string of numbers, dates and plain
    words is one too). The lines can be made ahead, in another thread (`_in_background`), so the
    COPY itself costs no Python time."""
    sql, extra = _copy_statement(model, columns)
    suffix = io.StringIO()
    if extra:
        csv.writer(suffix, lineterminator="").writerow(["", *extra])
    end = suffix.getvalue() + "\n"
    cursor = connection.cursor()
    total, batch = 0, []

    def flush():
        data = end.join(batch) + end
        # One read of the whole batch: the reads take the GIL, which the generating thread holds.
        cursor.cursor.copy_expert(sql, io.StringIO(data), size=len(data))
        batch.clear()

    for line in lines:
        batch.append(line)
        if len(batch) >= chunk:
            total += len(batch)
            flush()
    if batch:
        total += len(batch)
        flush()
    if "id" in columns:
        _reset_sequence(model)
    return total


def _csv(value) -> str:
    """A value of a `copy_lines` row: NULL, a boolean, quoted text where CSV needs it, or its text."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        if value == r"\N" or any(ch in value for ch in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value
    return str(value)


def _line(row) -> str:
    """A row (a tuple of values) as a `copy_lines` line."""
    return ",".join(map(_csv, row))


def _in_background(batches, depth=2):
    """Iterate `batches` (a generator that makes rows and touches no database) in a thread, up to
    `depth` items ahead, while the caller COPYs the previous item: the server's work (index upkeep,
    most of a COPY) and Python's overlap, as psycopg2 releases the GIL while it waits on the server.
    An error of the generator is raised here; leaving the loop early stops the thread."""
    items = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce():
        try:
            for batch in batches:
                if not put((batch, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put((_END, exc))

    thread = threading.Thread(target=produce, name="bench-rows", daemon=True)
    thread.start()
    try:
        while True:
            batch, error = items.get()
            if batch is _END:
                if error is not None:
                    raise error
                return
            yield batch
    finally:
        stop.set()
        thread.join()


_END = object()


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
    from partners.models import Customer, CustomerRelationship

    counts = ctx.split(ctx.count(100_000))
    start = next_id(Customer)
    rels = []

    def customers():
        cid = start
        for bp, count in zip(ctx.partners, counts, strict=True):
            for _ in range(max(count, 3)):
                yield _customer_row(ctx, bp, cid, rels)
                cid += 1

    copy_rows(Customer, CUSTOMER_COLUMNS, customers())
    copy_rows(CustomerRelationship, RELATIONSHIP_COLUMNS, rels)


CUSTOMER_COLUMNS = [
    "id",
    "legal_name",
    "normalized_name",
    "domain",
    "domain_key",
    "country",
    "status",
    "owner_partner_id",
    "created_by_id",
    "created_at",
    "updated_at",
]
RELATIONSHIP_COLUMNS = ["customer_id", "partner_id", "kind", "since", "owner_id"]


def _customer_row(ctx: Context, bp: BenchPartner, cid: int, rels: list) -> tuple:
    """One customer of `bp` (a row of CUSTOMER_COLUMNS) with its originating relationship (appended
    to `rels`); the id joins `bp.customers`."""
    from partners.matching import normalize_company_name, registrable_domain
    from partners.models import RelationshipKind

    name, domain, country, _n, _d, _normalized = ctx.company()
    created = ctx.created_at()
    owner = bp.user_of(ctx.rng, "rep")
    bp.customers.append(cid)
    rels.append((cid, bp.id, RelationshipKind.ORIGINATING, created.date(), owner))
    # One record per customer: the name and the domain are unique within a country, as the model's
    # constraints require of real data.
    legal = f"{name} {cid}"
    domain = f"c{cid}-{domain}"
    return (
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
    """A draw from (value, weight) pairs: what `rng.choices(values, weights)[0]` returns, for the
    same state of `rng`, without building the cumulative weights at every draw."""
    values = [v for v, _ in choices]
    cumulative = list(accumulate(w for _, w in choices))
    total, hi = cumulative[-1] + 0.0, len(cumulative) - 1
    return lambda: values[bisect(cumulative, rng.random() * total, 0, hi)]


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


# Renewals: contracts ---------------------------------------------------------------------------

# A contract's status: live ones (active in their first term, renewed in a later one) hold their
# (partner, customer, product line); lapsed and cancelled ones are history.
CONTRACT_STATUSES = [("active", 70), ("renewed", 12), ("lapsed", 10), ("cancelled", 8)]
# How many of the product lines a customer has a live contract for (mean 3.85).
LINES_PER_CUSTOMER = [(1, 5), (2, 10), (3, 20), (4, 25), (5, 40)]
TERM_DAYS = {12: 365, 24: 730, 36: 1095}
# The term (months) of an active first-term contract, by the full years left of it (0, 1 or 2).
TERM_MONTHS = [(12, 12, 12, 24, 36), (24, 36), (36,)]
LAPSE_REASONS = [("no_response", 50), ("competitor", 20), ("budget", 20), ("no_longer_needed", 10)]
CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _term_line(rng, products, months, product=None, quantity=None):
    """A subscription line for one term: (product id, unit price, quantity, amount, annual value), its
    amount what the order line charged for the term (unit price × quantity, as quotes price it) and
    its annual value amount × 12 / months, as renewals.services.annual_value_of computes it."""
    if product is None:
        product = products[rng.randrange(len(products))]
    product_id, price = product
    if quantity is None:
        target = min(max(rng.lognormvariate(9.4, 0.9), 600.0), 1_500_000.0)  # a year's value, median ~12k
        quantity = max(1, int(target * months / 12 / float(price)))
    amount = _cents(price * quantity)
    return product_id, price, quantity, amount, _cents(amount * 12 / months)


def gen_contracts(ctx: Context):
    """Contracts of renewals: 1,000,000 at scale 1.0 over the partners by weight, each for one
    customer's product line through the partner that brought the customer (partner of record and
    originating partner). 70 % are active in their first term (12, 24 or 36 months) with term ends
    spread evenly over the next three years; 12 % are in their second or third one-year term
    (status renewed: the history keeps each earlier term's line and its renewed renewal, at the
    agreement's terms), ending within the year; so about 12 % of all end within the 120-day lead
    and the periodic scan has renewals to open. 10 % lapsed (their renewal lapsed, mostly unanswered
    past the grace period) and 8 % were cancelled. A live contract is unique per (partner, customer,
    product line), so the partner's customers hold 1–5 lines each and new customers (with their
    originating relationship) are added where the partner's own run out. Each term has one contract
    line of a subscription product of the contract's product line. No reminders are written: the
    closed renewals' milestones are left unset."""
    from partners.agreement import PRESETS, BusinessModel
    from partners.models import Customer, CustomerRelationship
    from quotes.models import Product
    from renewals import conf
    from renewals.models import Contract, ContractLine, Renewal

    rng = ctx.rng
    lead = conf.lead_days()
    status_of = _weighted(rng, CONTRACT_STATUSES)
    lines_of = _weighted(rng, LINES_PER_CUSTOMER)
    lapse_reason_of = _weighted(rng, LAPSE_REASONS)
    products = {}
    subscriptions = Product.objects.filter(is_subscription=True, list_price__gt=0)
    if not subscriptions.exists():
        subscriptions = Product.objects.filter(list_price__gt=0)
    for product_id, line_id, price in subscriptions.order_by("id").values_list("id", "product_line_id", "list_price"):
        products.setdefault(line_id, []).append((product_id, price))
    if not products:
        raise SystemExit("bench: contracts need products with a price (run seed_demo)")
    line_ids = sorted(products)
    today = ctx.now.date()
    counts = ctx.split(ctx.count(1_000_000))
    next_customer, next_contract = next_id(Customer), next_id(Contract)

    def stamp(day: date) -> datetime:
        return _stamp(rng, ctx.now, day)

    def batches():
        """Lines of customers, relationships, contracts, contract lines and renewals, ~50,000 contracts a batch."""
        nonlocal next_customer, next_contract
        customers, rels, contracts, lines, renewals = [], [], [], [], []
        for bp, count in zip(ctx.partners, counts, strict=True):
            if not count:
                continue
            agreement = PRESETS[BusinessModel(bp.business_model)]
            side = str(agreement["renewal_owner"])  # the owner sides' values are the agreement's
            shared = side == "shared"
            exclusive = agreement["renewal_exclusive_days"] if shared else 0
            uplift = agreement["renewal_uplift_percent"]
            renewal_terms = (
                lead,
                f"{bp.id},{bp.id}",
                f"{side},{exclusive}",
                f"{_csv(bool(agreement['renewal_parent_marketing']))},{_csv(bool(agreement['renewal_commission']))},"
                f"{agreement['renewal_commission_rate']},{uplift}",
                exclusive,
            )
            statuses = [status_of() for _ in range(count)]
            live = sum(1 for s in statuses if s in ("active", "renewed"))
            # (customer, product line) of each live contract: the partner's customers first, then new ones.
            slots, own = [], len(bp.customers)
            while len(slots) < live:
                if own:
                    customer, own = bp.customers[-own], own - 1
                else:
                    customers.append(_line(_customer_row(ctx, bp, next_customer, rels)))
                    customer, next_customer = next_customer, next_customer + 1
                for line_id in rng.sample(line_ids, min(lines_of(), len(line_ids))):
                    slots.append((customer, line_id))
            slots = slots[:live]
            rng.shuffle(slots)
            for status in statuses:
                cid, next_contract = next_contract, next_contract + 1
                if status in ("active", "renewed"):
                    customer, line_id = slots.pop()
                else:
                    customer, line_id = bp.customers[rng.randrange(len(bp.customers))], rng.choice(line_ids)
                offers = products[line_id]
                # Terms (term number, start, end, months), oldest first; the last is the current one.
                if status == "active":
                    days_left = rng.randint(1, 1094)
                    # A term long enough to have started by today: 12 months mostly, some 24 or 36.
                    months = rng.choice(TERM_MONTHS[days_left // 365])
                    end = today + timedelta(days=days_left)
                    terms = [(1, end - timedelta(days=TERM_DAYS[months] - 1), end, months)]
                elif status == "renewed":
                    end = today + timedelta(days=rng.randint(1, 364))
                    terms = []
                    for number in range(rng.choice((2, 2, 2, 3)), 0, -1):
                        terms.insert(0, (number, end - timedelta(days=364), end, 12))
                        end -= timedelta(days=365)
                elif status == "lapsed":
                    end = today - timedelta(days=rng.randint(31, 700))
                    terms = [(1, end - timedelta(days=364), end, 12)]
                else:  # cancelled: by the customer, before its renewal opened
                    end = today + timedelta(days=rng.randint(-600, 364))
                    terms = [(1, end - timedelta(days=364), end, 12)]
                values = []
                product = quantity = None
                for number, start, end, months in terms:
                    product_id, price, quantity, amount, annual = _term_line(rng, offers, months, product, quantity)
                    product = (product_id, price)
                    values.append(annual)
                    lines.append(
                        f"{cid},{bp.id},{product_id},{quantity},{price},{number},{start},{end},{annual},{amount}"
                    )
                    # The next term: the same product, as many or a few more or fewer (upsell, downsell).
                    quantity = max(1, int(quantity * rng.choice((1.0, 1.0, 1.0, 1.1, 1.25, 0.9, 0.8))))
                first_start = terms[0][1]
                number, start, end, _months = terms[-1]
                created = stamp(first_start)
                updated = created
                # The renewals of the terms before the current one: renewed, at the agreement's terms.
                for (term, _start, term_end, _m), current, renewed in zip(terms, values, values[1:], strict=False):
                    closed = stamp(term_end - timedelta(days=rng.randint(0, 100)))
                    by = side if side != "shared" else ("partner" if rng.random() < 0.8 else "parent")
                    pursued = stamp(term_end - timedelta(days=lead - exclusive)) if shared and by == "parent" else None
                    change = renewed - current
                    outcome = "upsell" if change > 0 else "downsell" if change < 0 else "renewed"
                    renewals.append(
                        _renewal_line(
                            cid, customer, term, term_end, "renewed", renewal_terms, shared, current, uplift,
                            renewed, change, outcome, "", by, stamp(term_end - timedelta(days=lead)), closed, pursued,
                        )
                    )  # fmt: skip
                    updated = closed
                if status == "lapsed":
                    reason = lapse_reason_of()
                    if reason == "no_response":  # the scan lapsed it after the grace period
                        closed, by = stamp(end + timedelta(days=31)), ""
                    else:
                        closed = stamp(end - timedelta(days=rng.randint(0, 60)))
                        by = side if side != "shared" else "partner"
                    renewals.append(
                        _renewal_line(
                            cid, customer, number, end, "lapsed", renewal_terms, shared, values[-1], uplift,
                            None, None, "lapsed", reason, by, stamp(end - timedelta(days=lead)), closed, None,
                        )
                    )  # fmt: skip
                    updated = closed
                elif status == "cancelled":  # on a day of its term that has come
                    cancelled = stamp(start + timedelta(days=rng.randint(0, (min(today, end) - start).days)))
                    updated = max(created, cancelled)
                contracts.append(
                    f"{cid},{bp.id},{bp.id},{customer},{line_id},{status},{number},{start},{end},{values[-1]},USD,"
                    f"{created},{updated}"
                )
            if len(contracts) >= 50_000:
                yield customers, [_line(r) for r in rels], contracts, lines, renewals
                customers, rels, contracts, lines, renewals = [], [], [], [], []
        yield customers, [_line(r) for r in rels], contracts, lines, renewals

    for customers, rels, contracts, lines, renewals in _in_background(batches()):
        copy_lines(Customer, CUSTOMER_COLUMNS, customers)
        copy_lines(CustomerRelationship, RELATIONSHIP_COLUMNS, rels)
        copy_lines(Contract, CONTRACT_COLUMNS, contracts)
        copy_lines(ContractLine, CONTRACT_LINE_COLUMNS, lines)
        copy_lines(Renewal, RENEWAL_COLUMNS, renewals)


def _renewal_line(
    contract_id, customer_id, term_number, term_end, status, terms, shared, current, uplift,
    renewed, change, outcome, lapse_reason, closed_by, opened, closed, pursued,
) -> str:  # fmt: skip
    """A closed renewal of RENEWAL_COLUMNS, its dimensions copied from the agreement as the scan does."""
    lead, partners, owner, flags, exclusive = terms
    may_pursue = term_end - timedelta(days=lead - exclusive) if shared else None
    expected = _cents(current * (1 + uplift / 100))
    return (
        f"{contract_id},{partners},{customer_id},{term_number},{term_end},{status},{owner},{_csv(may_pursue)},"
        f"{flags},{current},{expected},{_csv(renewed)},{_csv(change)},USD,{outcome},{lapse_reason},{closed_by},"
        f"{opened},{closed},{closed},{_csv(pursued)}"
    )


CONTRACT_COLUMNS = [
    "id",
    "partner_id",
    "originating_partner_id",
    "customer_id",
    "product_line_id",
    "status",
    "term_number",
    "term_start",
    "term_end",
    "annual_value",
    "currency",
    "created_at",
    "updated_at",
]
CONTRACT_LINE_COLUMNS = [
    "contract_id",
    "partner_id",
    "product_id",
    "quantity",
    "unit_price",
    "term_number",
    "term_start",
    "term_end",
    "annual_value",
    "amount",
]
RENEWAL_COLUMNS = [
    "contract_id",
    "partner_id",
    "originating_partner_id",
    "customer_id",
    "term_number",
    "term_end",
    "status",
    "owner_side",
    "exclusive_days",
    "parent_may_pursue_from",
    "parent_marketing_allowed",
    "commission_eligible",
    "commission_rate",
    "uplift_percent",
    "current_value",
    "expected_value",
    "renewed_value",
    "value_change",
    "currency",
    "outcome",
    "lapse_reason",
    "closed_by_side",
    "opened_at",
    "closed_at",
    "updated_at",
    "pursued_by_parent_at",
]


# MDF: programs, allocations, fund requests, claims ---------------------------------------------

MDF_VENDORS = [
    ("Eventbrite Venues", "EVB"),
    ("Northside Conference Centre", "NCC"),
    ("Hotel Meridian Events", "HME"),
    ("ExpoHall Partners", "EXPO"),
    ("Zoom Webinars", "ZW"),
    ("ON24 Services", "O24"),
    ("LinkedIn Ads", "LI"),
    ("Search Ads Agency", "SAA"),
    ("Display Network Media", "DNM"),
    ("PrintCo", "PRT"),
    ("Brochure Works", "BW"),
    ("Copywriters Ltd", "CW"),
    ("Video Studio North", "VSN"),
    ("Mailjet Campaigns", "MJ"),
    ("Direct Mail House", "DMH"),
    ("Trade Fair Services", "TFS"),
    ("Stand Builders Group", "SBG"),
    ("Catering & Co", "CAT"),
    ("Training Rooms Inc", "TRI"),
    ("Swag Supply", "SWG"),
    ("Photo & Film Crew", "PFC"),
    ("Translation Bureau", "TB"),
    ("Digital Agency Blue", "DAB"),
    ("Lead Gen Partners", "LGP"),
]
ACTIVITY_DAYS = {
    "event": (0, 2),
    "webinar": (0, 0),
    "trade_show": (1, 4),
    "training": (0, 3),
    "digital_ads": (14, 45),
    "email": (7, 30),
    "content": (14, 40),
    "other": (0, 14),
}
# A request with claims is approved (closed once its claim deadline passed); the others stop earlier.
BARE_REQUEST_STATUSES = [
    ("rejected", 30),
    ("cancelled", 15),
    ("draft", 15),
    ("submitted", 15),
    ("returned", 10),
    ("approved", 15),  # approved, nothing claimed (yet)
]
ACTIVITIES = list(ACTIVITY_DAYS)
FUND_ROLES = ("admin", "manager", "marketing", "marketing")  # who asks for and claims funds
PARTIAL_SHARES = ("0.5", "0.6", "0.75", "0.8", "0.9")
CLAIM_LAG_DAYS = 26  # an activity's invoices come within 14 days of its end, its claims within 10 more
CLAIMS_PER_REQUEST = [(1, 35), (2, 30), (3, 20), (4, 10), (5, 5)]
# Claims decided long ago are settled; recent ones are still in review or waiting for payment.
OLD_CLAIM_STATUSES = [("paid", 85), ("rejected", 9), ("approved", 2), ("draft", 3), ("returned", 1)]
RECENT_CLAIM_STATUSES = [
    ("paid", 40),
    ("approved", 22),
    ("submitted", 18),
    ("draft", 8),
    ("rejected", 7),
    ("returned", 5),
]
REQUEST_REASONS = {
    "rejected": ["Not a lead-generating activity.", "Outside this quarter's focus.", "Budget exhausted."],
    "returned": ["Add the expected attendee count.", "Name the products the activity promotes."],
}
CLAIM_REASONS = {
    "rejected": ["Proof of performance missing.", "Invoice not addressed to the partner.", "Outside the activity."],
    "returned": ["Attach the signed invoice.", "Add the attendee list."],
    "partial": ["One line item is not reimbursable.", "Capped at the approved scope."],
}


def _quarters(today: date, count: int) -> list[tuple[date, date]]:
    """The current quarter and the `count - 1` before it, oldest first."""
    year, quarter = today.year, (today.month - 1) // 3
    out = []
    for _ in range(count):
        start = date(year, quarter * 3 + 1, 1)
        end = (date(year + 1, 1, 1) if quarter == 3 else date(year, quarter * 3 + 4, 1)) - timedelta(days=1)
        out.insert(0, (start, end))
        year, quarter = (year - 1, 3) if quarter == 0 else (year, quarter - 1)
    return out


def gen_mdf(ctx: Context):
    """Market development funds: 200,000 claims at scale 1.0 over the partners whose marketing model
    lets them request funds (by weight, scaled up to the whole), on ~90,000 approved requests (1–5
    claims each) and ~17,000 requests that stopped before (rejected, cancelled, draft, submitted,
    returned) or were approved with nothing claimed, in the last twelve quarterly programs, with an
    allocation per partner and program. Money is as the services leave it: a request's `reserved`
    holds its submitted claims' reimbursable amounts and its approved claims' approved amounts,
    `paid_amount` its paid claims', `released` (once closed at its claim deadline) the rest; an
    allocation commits its requests' approved amounts less what was paid and released, covers them
    with room to spare, and once its program expired the balance expired with it; program budgets
    cover their allocations. Claims carry no proof files (there is no storage behind them)."""
    from mdf.models import FundAllocation, FundClaim, FundProgram, FundRequest
    from mdf.permissions import may_request_funds_under
    from mdf.services import EXPIRY_WARNING_DAYS

    rng = ctx.rng
    User = get_user_model()
    staff = dict(User.objects.filter(username__in=["parent-marketing", "parent-finance"]).values_list("username", "id"))
    today = ctx.now.date()
    programs = FundProgram.objects.bulk_create(
        [
            FundProgram(
                name=f"Bench MDF {start.year} Q{(start.month - 1) // 3 + 1}",
                period_kind="quarter",
                starts_on=start,
                ends_on=end,
                budget=Decimal("0.00"),  # set below: what its allocations add up to, and some
                grace_days=30,
                created_at=_stamp(rng, ctx.now, start - timedelta(days=30)),
            )
            for start, end in _quarters(today, 12)
        ]
    )
    counts = ctx.split(ctx.count(200_000), only=lambda bp: may_request_funds_under(_marketing_model(bp)))
    maker = _FundsMaker(ctx, programs, staff.get("parent-marketing"), staff.get("parent-finance"))
    budgets = [Decimal("0.00")] * len(programs)
    next_allocation = next_id(FundAllocation)

    def batches():
        """Per partner: its allocations (money final), requests and claims; ~25,000 claims a batch."""
        nonlocal next_allocation
        allocations, requests, claims = [], [], []
        for bp, count in zip(ctx.partners, counts, strict=True):
            if not count:
                continue
            money = [[next_allocation + index, Decimal("0.00"), Decimal("0.00")] for index in range(len(programs))]
            next_allocation += len(programs)
            maker.partner_funds(bp, count, money, requests, claims)
            for index, (program, (aid, committed, paid)) in enumerate(zip(programs, money, strict=True)):
                # At least a tier's fixed amount, and room beyond what was committed and paid.
                used = committed + paid
                amount = Decimal(rng.choice((5000, 10000, 20000, 40000)))
                if used:
                    amount = max(amount, Decimal(math.ceil(float(used) * rng.uniform(1.1, 1.5) / 1000) * 1000))
                budgets[index] += amount
                expires_on = program.ends_on + timedelta(days=program.grace_days)
                expired = expires_on < today  # the expiry task moved the balance to `expired`
                approved_at = _stamp(rng, ctx.now, program.starts_on - timedelta(days=20))
                warned = expired_at = None
                if expired:  # warned 30 days before, expired the day after
                    warned = _stamp(rng, ctx.now, expires_on - timedelta(days=EXPIRY_WARNING_DAYS))
                    expired_at = _stamp(rng, ctx.now, expires_on + timedelta(days=1))
                allocations.append(
                    _line(
                        (
                            aid,
                            program.pk,
                            bp.id,
                            "fixed",
                            "expired" if expired else "active",
                            amount,
                            committed,
                            paid,
                            amount - used if expired else Decimal("0.00"),
                            staff.get("parent-finance"),
                            approved_at,
                            warned,
                            approved_at,
                            expired_at or approved_at,
                        )
                    )
                )
            if len(claims) >= 25_000:
                yield allocations, requests, claims
                allocations, requests, claims = [], [], []
        yield allocations, requests, claims

    for allocations, requests, claims in _in_background(batches()):
        copy_lines(FundAllocation, ALLOCATION_COLUMNS, allocations)
        copy_lines(FundRequest, REQUEST_COLUMNS, requests)
        copy_lines(FundClaim, CLAIM_COLUMNS, claims)
    for program, budget in zip(programs, budgets, strict=True):
        program.budget = Decimal(math.ceil(float(budget) * 1.1 / 10_000) * 10_000)
    FundProgram.objects.bulk_update(programs, ["budget"])


def _marketing_model(bp: BenchPartner):
    from partners.agreement import PRESETS, BusinessModel

    return PRESETS[BusinessModel(bp.business_model)]["marketing_model"]


def _stamp(rng, now: datetime, day: date) -> datetime:
    """A moment of `day` (in UTC); of today, one that has passed (never a pile of rows at `now`)."""
    midnight = datetime.combine(day, datetime.min.time(), UTC)
    seconds = 86400 if midnight + timedelta(days=1) <= now else max(int((now - midnight).total_seconds()), 1)
    return min(midnight + timedelta(seconds=rng.randrange(seconds)), now)


def _later(rng, start: datetime, most: timedelta, now: datetime) -> datetime:
    """A moment after `start`, at most `most` later, and not after `now`."""
    room = min(most, now - start).total_seconds()
    return start + timedelta(seconds=rng.random() * max(room, 0.0))


class _FundsMaker:
    """A partner's fund requests and their claims, as CSV lines of REQUEST_COLUMNS and CLAIM_COLUMNS,
    adding what they commit and pay to their allocations."""

    def __init__(self, ctx: Context, programs, marketing_id, finance_id):
        from mdf.models import FundClaim, FundRequest
        from mdf.permissions import may_use_own_materials_under
        from mdf.services import DEFAULT_CLAIM_DAYS, normalize_key

        self.rng, self.now, self.today = ctx.rng, ctx.now, ctx.now.date()
        self.claim_days = timedelta(days=DEFAULT_CLAIM_DAYS)
        self.may_use_own_materials_under = may_use_own_materials_under
        self.programs = programs
        # Requests with claims need an activity that has ended; the current quarter's may be too young.
        self.claimable = [i for i, p in enumerate(programs) if p.starts_on <= self.today - timedelta(days=10)]
        self.marketing, self.finance = marketing_id, finance_id
        self.normalize_key = normalize_key
        self.vendors = [(name, prefix, normalize_key(name)) for name, prefix in MDF_VENDORS]
        self.claims_of = _weighted(self.rng, CLAIMS_PER_REQUEST)
        self.bare_status_of = _weighted(self.rng, BARE_REQUEST_STATUSES)
        self.old_claim_status_of = _weighted(self.rng, OLD_CLAIM_STATUSES)
        self.recent_claim_status_of = _weighted(self.rng, RECENT_CLAIM_STATUSES)
        self.next_request, self.next_claim = next_id(FundRequest), next_id(FundClaim)

    def stamp(self, day: date) -> datetime:
        return _stamp(self.rng, self.now, day)

    def partner_funds(self, bp, count, money, requests, claims):
        """`count` claims on approved requests of `bp`, and some requests without claims."""
        rng = self.rng
        own_materials = self.may_use_own_materials_under(_marketing_model(bp))
        with_claims = 0
        while count > 0:
            k = min(self.claims_of(), count)
            self.request(bp, "approved", rng.choice(self.claimable), k, own_materials, money, requests, claims)
            count -= k
            with_claims += 1
        last = len(self.programs) - 1
        for _ in range(max(1, int(with_claims * 0.18))):
            status = self.bare_status_of()
            index = last if status in ("draft", "submitted", "returned") else rng.randrange(len(self.programs))
            self.request(bp, status, index, 0, own_materials, money, requests, claims)

    def request(self, bp, status, index, claim_count, own_materials, money, requests, claims):
        """One request of `bp` in program `index` (with `claim_count` claims when approved)."""
        rng, now, today, stamp = self.rng, self.now, self.today, self.stamp
        rid, self.next_request = self.next_request, self.next_request + 1
        activity = rng.choice(ACTIVITIES)
        low, high = ACTIVITY_DAYS[activity]
        days = rng.randint(low, high)
        lag = rng.randint(2, CLAIM_LAG_DAYS)
        while True:
            program = self.programs[index]
            first_start, last_start = program.starts_on, program.ends_on - timedelta(days=days)
            if claim_count:  # the activity is over, and (most of) its invoices are in and claimed
                last_start = min(last_start, today - timedelta(days=days + lag))
            elif status in ("draft", "submitted", "returned") and today + timedelta(days=3) <= last_start:
                first_start = today + timedelta(days=3)  # still being planned
            if last_start >= first_start or index == 0:
                break
            index -= 1  # no room in this quarter yet: an earlier one
        allocation = money[index]
        starts_on = first_start + timedelta(days=rng.randint(0, max((last_start - first_start).days, 0)))
        ends_on = starts_on + timedelta(days=days)
        requested = Decimal(max(5, int(rng.lognormvariate(4.1, 0.8))) * 100)  # median ~6,000
        creator = bp.user_of(rng, rng.choice(FUND_ROLES))
        day = max(starts_on - timedelta(days=rng.randint(7, 40)), program.starts_on - timedelta(days=20))
        if status in ("draft", "submitted", "returned") or day > today:  # asked for lately
            day = today - timedelta(days=rng.randint(0, 20))
        created = stamp(day)
        submitted = None if status == "draft" else _later(rng, created, timedelta(hours=48), now)
        decided = None
        if status not in ("draft", "submitted") and not (status == "cancelled" and rng.random() < 0.5):
            decided = _later(rng, submitted, timedelta(days=7), now)
        reason = rng.choice(REQUEST_REASONS[status]) if status in REQUEST_REASONS else ""
        zero = Decimal("0.00")
        approved = reserved = paid = released = zero
        percent, deadline = Decimal("100.00"), None
        if status == "cancelled":
            reason = "Withdrawn: the activity did not take place."
        if status == "approved":
            approved = requested
            if rng.random() < 0.15:  # approved for less than asked, with a reason
                approved = max(Decimal(100), (requested * Decimal(rng.choice(PARTIAL_SHARES))).quantize(Decimal(100)))
                reason = f"Approved for {approved} of the {requested} asked."
            percent = Decimal(rng.choice(("100.00", "100.00", "100.00", "75.00", "50.00")))
            expires_on = program.ends_on + timedelta(days=program.grace_days)
            deadline = min(ends_on + self.claim_days, expires_on)
            # Pre-approval: decided before the activity starts, so before its claims and the deadline.
            starts_at = datetime.combine(starts_on, datetime.min.time(), UTC)
            decided = _later(rng, submitted, max(min(timedelta(days=7), starts_at - submitted), timedelta(0)), now)
            # Claims submit before the deadline ran out, and reimburse min(amount × %, what is left).
            last_moment = datetime.combine(deadline, datetime.max.time().replace(microsecond=0), UTC)
            vendors = rng.sample(self.vendors, 3)
            target = float(approved) * rng.uniform(0.55, 1.0)
            shares = [rng.uniform(0.5, 1.5) for _ in range(claim_count)]
            for share in shares:
                cid, self.next_claim = self.next_claim, self.next_claim + 1
                vendor, prefix, vendor_key = rng.choice(vendors)
                invoice_number = f"{prefix}-{cid:07d}"  # unique, and no near-duplicate of another
                latest = min(today - timedelta(days=1), deadline)  # claims made by yesterday, some submitted since
                invoice_day = ends_on + timedelta(days=rng.randint(0, min(14, (latest - ends_on).days)))
                amount = max(CENT, Decimal(f"{target * share / sum(shares) * 100 / float(percent):.2f}"))
                created_at = stamp(invoice_day + timedelta(days=rng.randint(0, min(10, (latest - invoice_day).days))))
                old = created_at.date() < today - timedelta(days=120)
                state = self.old_claim_status_of() if old else self.recent_claim_status_of()
                submitted_at = decided_at = paid_at = None
                reimbursable = approved_amount = zero
                claim_reason = ""
                if state != "draft":
                    submitted_at = created_at + timedelta(minutes=rng.randint(5, 2880))
                    if submitted_at > last_moment:
                        submitted_at = _later(rng, created_at, last_moment - created_at, now)
                    if submitted_at > now:  # not yet
                        state, submitted_at = "draft", None
                if state != "draft":
                    reimbursable = min(_cents(amount * percent / 100), approved - reserved - paid - released)
                    if reimbursable <= 0:  # nothing left on the request: it could not be submitted
                        state, reimbursable, submitted_at = "draft", zero, None
                if state in ("approved", "paid", "rejected", "returned"):
                    decided_at = submitted_at + timedelta(days=rng.randint(1, 20), seconds=rng.randrange(36000))
                    if decided_at > now:
                        state, decided_at = "submitted", None
                if state == "paid":
                    paid_at = decided_at + timedelta(days=rng.randint(3, 30), seconds=rng.randrange(36000))
                    if paid_at > now:
                        state, paid_at = "approved", None
                if state in ("rejected", "returned"):
                    claim_reason = rng.choice(CLAIM_REASONS[state])
                    reimbursable = zero  # its reservation went back to the request
                elif state in ("approved", "paid"):
                    approved_amount = reimbursable
                    if rng.random() < 0.1:  # approved in part: the rest went back to the request
                        approved_amount = max(CENT, _cents(reimbursable * Decimal(rng.choice(PARTIAL_SHARES))))
                        claim_reason = rng.choice(CLAIM_REASONS["partial"])
                if state == "submitted":
                    reserved += reimbursable
                elif state == "approved":
                    reserved += approved_amount
                elif state == "paid":
                    paid += approved_amount
                claims.append(
                    _line(
                        (
                            cid,
                            bp.id,
                            rid,
                            bp.user_of(rng, rng.choice(FUND_ROLES)),
                            vendor,
                            invoice_number,
                            vendor_key,
                            self.normalize_key(invoice_number),
                            invoice_day,
                            amount,
                            "",
                            state,
                            reimbursable,
                            approved_amount,
                            submitted_at,
                            self.marketing if decided_at else None,
                            decided_at,
                            claim_reason,
                            f"PAY-{cid:07d}" if paid_at else "",
                            self.finance if paid_at else None,
                            paid_at,
                            created_at,
                            paid_at or decided_at or submitted_at or created_at,
                        )
                    )
                )
            if deadline < today:  # the close task gave back what no claim holds
                status, released = "closed", approved - reserved - paid
            allocation[1] += approved - paid - released
            allocation[2] += paid
        label = activity.replace("_", " ")
        requests.append(
            _line(
                (
                    rid,
                    bp.id,
                    allocation[0],
                    creator,
                    f"{label.title()}: {rng.choice(WORDS).title()} {rng.choice(WORDS)} {rid}",
                    activity,
                    f"{label.capitalize()} for {bp.slug}'s customers, with follow-up calls.",
                    starts_on,
                    ends_on,
                    requested,
                    rng.randint(5, 200),
                    requested * rng.randint(5, 20),
                    own_materials and rng.random() < 0.3,
                    status,
                    approved,
                    percent,
                    deadline,
                    reserved,
                    paid,
                    released,
                    submitted,
                    self.marketing if decided else None,
                    decided,
                    reason,
                    created,
                    decided or submitted or created,
                )
            )
        )


ALLOCATION_COLUMNS = [
    "id",
    "program_id",
    "partner_id",
    "method",
    "status",
    "amount",
    "committed",
    "paid",
    "expired",
    "approved_by_id",
    "approved_at",
    "expiry_warned_at",
    "created_at",
    "updated_at",
]
REQUEST_COLUMNS = [
    "id",
    "partner_id",
    "allocation_id",
    "created_by_id",
    "title",
    "activity_type",
    "plan",
    "starts_on",
    "ends_on",
    "requested_amount",
    "expected_leads",
    "expected_pipeline",
    "uses_own_materials",
    "status",
    "approved_amount",
    "reimbursement_percent",
    "claim_deadline",
    "reserved",
    "paid_amount",
    "released",
    "submitted_at",
    "decided_by_id",
    "decided_at",
    "decision_reason",
    "created_at",
    "updated_at",
]
CLAIM_COLUMNS = [
    "id",
    "partner_id",
    "fund_request_id",
    "created_by_id",
    "vendor",
    "invoice_number",
    "vendor_key",
    "invoice_key",
    "invoice_date",
    "amount",
    "description",
    "status",
    "reimbursable_amount",
    "approved_amount",
    "submitted_at",
    "decided_by_id",
    "decided_at",
    "decision_reason",
    "payment_reference",
    "paid_by_id",
    "paid_at",
    "created_at",
    "updated_at",
]


# The order matters: later domains use the partners, users and customers of earlier ones.
# Contracts come after customers (they add customers where a partner's run out); MDF needs only the
# partners and their people.
DOMAINS = [
    ("reference", gen_reference),
    ("partners", gen_partners),
    ("customers", gen_customers),
    ("registrations", gen_registrations),
    ("leads", gen_leads),
    ("quotes_orders", gen_quotes_orders),
    ("cases", gen_cases),
    ("contracts", gen_contracts),
    ("mdf", gen_mdf),
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
        committing = time.perf_counter()
    # Django's foreign keys are deferred on PostgreSQL: every row's checks run at this commit.
    ctx.timings["commit"] = time.perf_counter() - committing
    stdout(f"  {'commit':<14} {ctx.timings['commit']:7.1f} s")
    if analyze and connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        ctx.timings["vacuum_analyze"] = time.perf_counter() - started
        stdout(f"  {'vacuum/analyze':<14} {ctx.timings['vacuum_analyze']:7.1f} s")
    return ctx
