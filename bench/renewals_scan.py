"""Benchmark: the periodic renewal scan over 1,000,000 contracts (PostgreSQL).

    createdb -h 127.0.0.1 -U postgres prm_renewals_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prm_renewals_bench .venv/bin/python bench/renewals_scan.py

It migrates the database, COPYs partners' customers and 1,000,000 contracts whose terms end evenly
over the next three years (so about 11% are within the 120-day lead), then times the scan as the
periodic task runs it: open the renewals due, then raise their milestones and queue their reminder
tasks (to an in-memory broker: the figure is the database work and the publishing, not Redis). It
prints the seconds and the queries per batch, and the cost of sending a sample of reminders (each
(renewal, milestone, recipient) once, with its in-portal notification). The database must be a
scratch one: the script refuses a name that does not end in "_bench" unless given --force.

Options: --contracts N (default 1,000,000), --batch N (default 5000), --keep (reuse existing data).
"""

import argparse
import datetime
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
os.environ["REDIS_URL"] = ""  # publish reminder tasks to the in-memory broker, never to a real queue
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

BUSINESS_MODELS = ["referral", "registration_parent", "registration_retention", "dual", "white_label"]
PARTNERS = 50
PRODUCT_LINES = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="reuse the contracts already generated")
    parser.add_argument("--force", action="store_true", help="run on a database not named *_bench")
    return parser.parse_args()


def copy_rows(table, columns, rows):
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def generate(count):
    from django.contrib.auth import get_user_model

    from partners.agreement import PRESETS, BusinessModel
    from partners.models import Agreement, Customer, Membership, Partner, ProductLine
    from quotes.models import Product

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE renewals_renewalreminder, renewals_renewal, renewals_contractline, renewals_contract, "
            "partners_notification RESTART IDENTITY CASCADE"
        )
    partners = []
    for index in range(PARTNERS):
        model = BUSINESS_MODELS[index % len(BUSINESS_MODELS)]
        partner, _ = Partner.objects.get_or_create(
            slug=f"bench-{index}",
            defaults={"name": f"Bench partner {index}", "business_model": model, "country": "US", "status": "active"},
        )
        Agreement.objects.update_or_create(partner=partner, defaults=dict(PRESETS[BusinessModel(model)]))
        for role in ("admin", "manager"):
            user, _ = get_user_model().objects.get_or_create(
                username=f"bench-{index}-{role}", defaults={"email": f"bench-{index}-{role}@example.test"}
            )
            Membership.objects.get_or_create(user=user, defaults={"partner": partner, "role": role})
        partners.append(partner.pk)
    lines = []
    for index in range(PRODUCT_LINES):
        line, _ = ProductLine.objects.get_or_create(code=f"bench-line-{index}", defaults={"name": f"Line {index}"})
        Product.objects.get_or_create(
            sku=f"BENCH-{index}",
            defaults={"name": f"Bench {index}", "product_line": line, "unit": "seat_month", "list_price": "10.00"},
        )
        lines.append(line.pk)
    customers_needed = -(-count // PRODUCT_LINES)
    existing = Customer.objects.filter(legal_name__startswith="Bench customer").count()
    if existing < customers_needed:
        now = timezone.now().isoformat()
        copy_rows(
            "partners_customer",
            [
                "legal_name",
                "normalized_name",
                "domain",
                "domain_key",
                "country",
                "industry",
                "size",
                "status",
                "created_at",
                "updated_at",
            ],
            (
                (f"Bench customer {i}", f"bench customer {i}", "", "", "US", "", "", "active", now, now)
                for i in range(existing, customers_needed)
            ),
        )
    customer_ids = list(
        Customer.objects.filter(legal_name__startswith="Bench customer").order_by("pk").values_list("pk", flat=True)
    )[:customers_needed]
    today = timezone.localdate()
    now = timezone.now().isoformat()

    def contracts():
        for i in range(count):
            customer = customer_ids[i // PRODUCT_LINES]
            partner = partners[(i // PRODUCT_LINES) % PARTNERS]
            line = lines[i % PRODUCT_LINES]
            end = today + datetime.timedelta(days=1 + (i * 7919) % 1095)
            start = end - datetime.timedelta(days=364)
            value = 1000 + (i % 50) * 100
            yield (partner, partner, customer, line, "active", 1, start, end, f"{value}.00", "USD", now, now)

    columns = [
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
    chunk = 100_000
    rows = contracts()
    written = 0
    while written < count:
        part = [next(rows) for _ in range(min(chunk, count - written))]
        copy_rows("renewals_contract", columns, part)
        written += len(part)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE renewals_contract")
        cursor.execute("ANALYZE partners_agreement")


def main():
    args = parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL.")
    if not connection.settings_dict["NAME"].endswith("_bench") and not args.force:
        sys.exit("Refusing: the database name does not end in _bench (it is truncated). Use --force.")
    from renewals import services
    from renewals.models import Contract, Renewal, RenewalReminder

    call_command("migrate", verbosity=0)
    if not args.keep or not Contract.objects.exists():
        started = time.perf_counter()
        generate(args.contracts)
        print(f"generated {args.contracts:,} contracts with COPY in {time.perf_counter() - started:.1f} s")
    else:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE renewals_renewalreminder, renewals_renewal RESTART IDENTITY CASCADE")
            cursor.execute("UPDATE renewals_contract SET status = 'active' WHERE status <> 'active'")
    total = Contract.objects.count()
    today = timezone.localdate()

    with CaptureQueriesContext(connection) as opened_queries:
        started = time.perf_counter()
        opened = services.renewals_open_due(today=today, batch_size=args.batch)
        open_seconds = time.perf_counter() - started
    with CaptureQueriesContext(connection) as remind_queries:
        started = time.perf_counter()
        queued = services.renewals_schedule_reminders(today=today, batch_size=args.batch)
        remind_seconds = time.perf_counter() - started
    open_batches = -(-opened // args.batch) + 1
    remind_batches = -(-opened // args.batch) + 1
    print(f"contracts: {total:,}; batch size {args.batch}")
    print(
        f"open:   {opened:,} renewals in {open_seconds:.1f} s "
        f"({len(opened_queries)} queries, {len(opened_queries) / open_batches:.1f} per batch)"
    )
    print(
        f"remind: {queued:,} renewals' reminders queued in {remind_seconds:.1f} s "
        f"({len(remind_queries)} queries, {len(remind_queries) / remind_batches:.1f} per batch)"
    )
    print(f"scan total (open + remind): {open_seconds + remind_seconds:.1f} s")

    # Again: nothing opens twice, nothing is queued twice once reminded (here: still unsent).
    started = time.perf_counter()
    again = services.renewals_open_due(today=today, batch_size=args.batch)
    print(f"second scan opens {again} renewals in {time.perf_counter() - started:.1f} s")

    sample = list(Renewal.objects.order_by("pk").values_list("pk", flat=True)[:500])
    started = time.perf_counter()
    sent = services.renewals_remind(sample, today=today)
    seconds = time.perf_counter() - started
    print(
        f"send:   {sent} reminders for {len(sample)} renewals in {seconds:.1f} s "
        f"({1000 * seconds / max(sent, 1):.1f} ms per reminder, by the workers)"
    )
    assert services.renewals_remind(sample, today=today) == 0
    print(f"reminder rows: {RenewalReminder.objects.count()} (a second run wrote none)")


if __name__ == "__main__":
    main()
