"""The measurements: every API list endpoint, its portal page and its admin changelist, per role,
page 1 and a deep page (median and p95 in-process, the raw-SQL floor measured in the same run, their
ratio, the query count); HTTP through gunicorn with 1 and 4 concurrent clients; each periodic task.

Results are printed as Markdown and written to `bench/results/<label>.json` for `bench compare`.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .generate import BENCH_PASSWORD

RESULTS = Path(__file__).resolve().parent / "results"
PAGE_SIZE = 50
DEEP_PAGE = 200  # offset 9,950 at 50 a page
ROLES = {
    "partner rep": ("bench-0000-rep2", BENCH_PASSWORD),
    "partner admin (large)": ("bench-0000-admin0", BENCH_PASSWORD),
    "channel manager": ("bench-channel-manager", BENCH_PASSWORD),
    "parent admin": ("parent-admin", "demo-pass-2026"),
}
PARENT_ROLES = ("channel manager", "parent admin")
# The portal page that shows the same records as an API list (None: no portal list).
# Keys are the API routes' basenames (`deal-registration` for /api/v1/deal-registrations/).
PORTAL_PAGE = {
    "lead": ("deals:lead-list", {}),
    "deal-registration": ("deals:registration-list", {"status": ""}),
    "opportunity": ("deals:pipeline", {}),
    "commission": ("deals:commission-list", {}),
    "quote": ("quotes:quote-list", {}),
    "order": ("quotes:order-list", {}),
    "case": ("cases:case-list", {}),
    "case-queue": ("cases:queue-list", {}),
    "customer": ("portal:customer-list", {}),
    "partner": ("portal:partner-list", {}),
}
SEARCH_TERM = "summit"


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def timed(func, *, budget=2.5, warmup=2, max_runs=25, min_runs=3):
    """Run `func` until the time budget or `max_runs`; returns the list of milliseconds."""
    for _ in range(warmup):
        func()
    samples = []
    started = time.perf_counter()
    while len(samples) < max_runs and (len(samples) < min_runs or time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        func()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def summary(samples):
    return {"p50": round(statistics.median(samples), 2), "p95": round(percentile(samples, 95), 2), "n": len(samples)}


# Discovery -------------------------------------------------------------------------------------


def api_list_endpoints():
    """(resource, path, viewset class) for every list route under /api/v1/."""
    found = []

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name and p.name.endswith("-list"):
                cls = getattr(p.callback, "cls", None)
                if cls is None or getattr(p.callback, "actions", {}).get("get") != "list":
                    continue
                name = f"{namespace}:{p.name}" if namespace else p.name
                try:
                    path = reverse(name)
                except Exception:  # noqa: BLE001 - a list route with parameters is not a top-level list
                    continue
                if path.startswith("/api/v1/") and "format" not in path:
                    found.append((p.name[: -len("-list")], path, cls))

    walk(get_resolver().url_patterns, "", None)
    seen, unique = set(), []
    for item in found:
        if item[1] not in seen:
            seen.add(item[1])
            unique.append(item)
    return sorted(unique, key=lambda item: item[1])


# In-process clients ----------------------------------------------------------------------------


class Caller:
    def __init__(self, role, username, password):
        from django.contrib.auth import get_user_model

        self.role = role
        self.user = get_user_model().objects.get(username=username)
        self.session = Client()
        self.session.force_login(self.user)
        response = Client().post(
            "/api/v1/auth/token/",
            {"username": username, "password": password},
            content_type="application/json",
            secure=True,
        )
        if response.status_code != 200:
            raise SystemExit(f"bench: no token for {username}: {response.status_code} {response.content[:200]}")
        self.token = response.json()["token"]
        self.api = Client(HTTP_AUTHORIZATION=f"Token {self.token}")

    def fresh_user(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.get(pk=self.user.pk)


def get(client, path, params=None):
    url = path + ("?" + urlencode(params) if params else "")
    response = client.get(url, secure=True)
    return response


def measure_request(client, path, params):
    response = get(client, path, params)
    status = response.status_code
    connection.queries_log.clear()  # a bounded deque: a full one would hide the new queries
    with CaptureQueriesContext(connection) as queries:
        get(client, path, params)
    count = len(queries)
    samples = timed(lambda: get(client, path, params))
    return {"status": status, "queries": count, **summary(samples)}, response


def floor_sql(queryset, offset, limit, keyset=None):
    """The raw SQL and JSON cost of the page: the scoped rows' own columns, nothing else."""
    columns = [f.attname for f in queryset.model._meta.concrete_fields]
    qs = queryset
    if keyset is not None:
        qs = qs.filter(**keyset)
        offset = 0
    try:
        sql, params = qs.values_list(*columns)[offset : offset + limit].query.sql_with_params()
    except EmptyResultSet:
        return None

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str)

    return summary(timed(run))


def ordering_of(viewset):
    ordering = list(getattr(viewset, "ordering", None) or viewset.model._meta.ordering or ["-pk"])
    if not any(o.lstrip("-") in ("id", "pk") for o in ordering):
        ordering.append("-id" if ordering[0].startswith("-") else "id")
    return ordering


def bench_api(callers, endpoints, results):
    from prm.api import pagination

    encode = getattr(pagination, "encode_cursor", None)
    for resource, path, viewset in endpoints:
        model = getattr(viewset, "model", None)
        for caller in callers:
            row = {"kind": "api", "what": resource, "path": path, "role": caller.role}
            page1, response = measure_request(caller.api, path, {"page_size": PAGE_SIZE})
            row["page1"] = page1
            body = response.json() if response.status_code == 200 else {}
            count = body.get("count") if isinstance(body, dict) else None
            if model is None or response.status_code != 200:
                # Not a model list, or not this role's (a 403 is the answer to measure, nothing more).
                results.append(row)
                print_row(row)
                continue
            scoped = model.objects.for_user(caller.fresh_user()).order_by(*ordering_of(viewset))
            row["floor1"] = floor_sql(scoped, 0, PAGE_SIZE)
            if row["floor1"] is None:
                del row["floor1"]  # the caller sees none of these rows: there is no SQL to compare with
                results.append(row)
                print_row(row)
                continue
            # The exact size (the API's count may be an estimate above its limit).
            total = count if isinstance(count, int) and body.get("count_exact", True) else scoped.count()
            row["rows"] = total
            deep = min(DEEP_PAGE, max(1, math.ceil(total / PAGE_SIZE)))
            if deep > 1:
                row["deep_page"] = deep
                row["deep"], _ = measure_request(caller.api, path, {"page_size": PAGE_SIZE, "page": deep})
                row["floor_deep"] = floor_sql(scoped, (deep - 1) * PAGE_SIZE, PAGE_SIZE)
                if encode is not None:
                    ordering = ordering_of(viewset)
                    fields = [o.lstrip("-") for o in ordering]
                    anchor = scoped.values_list(*fields)[(deep - 1) * PAGE_SIZE - 1 : (deep - 1) * PAGE_SIZE]
                    anchor = list(anchor)
                    if anchor:
                        token = encode(list(anchor[0]), ordering=ordering)
                        row["deep_cursor"], _ = measure_request(
                            caller.api, path, {"page_size": PAGE_SIZE, "cursor": token}
                        )
                        first = fields[0]
                        op = "lte" if ordering[0].startswith("-") else "gte"
                        keyset = {f"{first}__{op}": anchor[0][0]}
                        row["floor_cursor"] = floor_sql(scoped, 0, PAGE_SIZE, keyset=keyset)
            results.append(row)
            print_row(row)


def bench_portal(callers, endpoints, results):
    for resource, _path, _viewset in endpoints:
        if resource not in PORTAL_PAGE:
            continue
        name, params = PORTAL_PAGE[resource]
        try:
            path = reverse(name)
        except Exception:  # noqa: BLE001
            continue
        for caller in callers:
            row = {"kind": "portal", "what": name, "path": path, "role": caller.role}
            row["page1"], response = measure_request(caller.session, path, params)
            if response.status_code == 200 and resource != "opportunity":
                # Page 200, or the last page when there are fewer (the portal shows the last one then).
                row["deep_page"] = DEEP_PAGE
                row["deep"], _ = measure_request(caller.session, path, {**params, "page": DEEP_PAGE})
            results.append(row)
            print_row(row)


def bench_admin(callers, results):
    from django.contrib import admin

    parents = [c for c in callers if c.role in PARENT_ROLES]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label):
        opts = model._meta
        try:
            path = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except Exception:  # noqa: BLE001
            continue
        big = model._meta.db_table in BIG_TABLES
        for caller in parents:
            row = {"kind": "admin", "what": opts.label, "path": path, "role": caller.role}
            row["page1"], _ = measure_request(caller.session, path, {})
            if row["page1"]["status"] != 200:
                results.append(row)
                continue
            if big:
                row["deep_page"] = DEEP_PAGE
                row["deep"], _ = measure_request(caller.session, path, {"p": DEEP_PAGE})
                if model_admin.search_fields:
                    row["search"], _ = measure_request(caller.session, path, {"q": SEARCH_TERM})
            results.append(row)
            print_row(row)


BIG_TABLES = {
    "deals_dealregistration",
    "deals_lead",
    "quotes_quote",
    "quotes_order",
    "cases_case",
    "partners_customer",
    "partners_auditevent",
}


def bench_tasks(results):
    """Each periodic task once over the data, in a transaction rolled back afterwards."""
    from celery import current_app

    from prm.schedule import BEAT_SCHEDULE

    current_app.conf.task_always_eager = True
    for name, entry in sorted(BEAT_SCHEDULE.items()):
        connection.queries_log.clear()
        task = current_app.tasks.get(entry["task"])
        if task is None:
            __import__(entry["task"].rsplit(".", 1)[0])
            task = current_app.tasks[entry["task"]]
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    outcome = task.run()
                    transaction.set_rollback(True)
                error = ""
            except Exception as exc:  # noqa: BLE001 - a failing task is reported, not fatal
                outcome, error = None, f"{type(exc).__name__}: {exc}"[:200]
            elapsed = (time.perf_counter() - started) * 1000
        count = len(queries)
        row = {
            "kind": "task",
            "what": name,
            "role": "-",
            "task_ms": round(elapsed, 1),
            "queries": count,
            "outcome": str(outcome)[:120],
            "error": error,
        }
        results.append(row)
        print_row(row)


# HTTP ------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workers=2):
    port = free_port()
    pidfile = Path(tempfile.mkdtemp()) / "gunicorn.pid"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "prm.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--pid",
        str(pidfile),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603 - fixed local command
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("bench: gunicorn did not start")


def http_loop(port, path, token, runs, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    for _ in range(runs):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        out.append(((time.perf_counter() - t0) * 1000, response.status))
    conn.close()


def bench_http(callers, endpoints, results, workers=2, *, single=True):
    process, port = start_gunicorn(workers)
    try:
        for resource, path, _ in endpoints if single else ():
            for caller in callers:
                url = f"{path}?page_size={PAGE_SIZE}"
                samples = []
                http_loop(port, url, caller.token, 2, [])
                http_loop(port, url, caller.token, 15, samples)
                row = {
                    "kind": "http1",
                    "what": resource,
                    "path": path,
                    "role": caller.role,
                    "page1": {**summary([s for s, _ in samples]), "status": samples[-1][1], "queries": None},
                }
                results.append(row)
                print_row(row)
        for resource in ("deal-registration", "lead"):
            path = next((p for r, p, _ in endpoints if r == resource), None)
            if path is None:
                continue
            for caller in callers:
                if caller.role not in ("parent admin", "partner admin (large)"):
                    continue
                url = f"{path}?page_size={PAGE_SIZE}"
                outs = [[] for _ in range(4)]
                threads = [threading.Thread(target=http_loop, args=(port, url, caller.token, 25, out)) for out in outs]
                started = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                elapsed = time.perf_counter() - started
                samples = [s for out in outs for s, _ in out]
                row = {
                    "kind": "http4",
                    "what": resource,
                    "path": path,
                    "role": caller.role,
                    "page1": {**summary(samples), "status": outs[0][-1][1], "queries": None},
                    "rps": round(len(samples) / elapsed, 1),
                }
                results.append(row)
                print_row(row)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# Output ----------------------------------------------------------------------------------------


def ratio(row, key, floor_key):
    if key in row and floor_key in row and row[floor_key]["p50"]:
        return round(row[key]["p50"] / row[floor_key]["p50"], 1)
    return None


def fmt(m):
    return f"{m['p50']:.1f} / {m['p95']:.1f}" if m else "—"


def print_row(row):
    if row["kind"] == "task":
        print(
            f"| task | {row['what']} | {row['task_ms']:.0f} ms | {row['queries']} queries "
            f"| {row['outcome']} {row['error']}"
        )
        return
    parts = [row["kind"], row["what"], row["role"], f"p1 {fmt(row.get('page1'))} ms q{row['page1'].get('queries')}"]
    if "floor1" in row:
        parts.append(f"floor {row['floor1']['p50']:.2f} ×{ratio(row, 'page1', 'floor1')}")
    if "deep" in row:
        parts.append(f"deep p{row['deep_page']} {fmt(row['deep'])} q{row['deep'].get('queries')}")
    if "floor_deep" in row:
        parts.append(f"floor {row['floor_deep']['p50']:.2f}")
    if "deep_cursor" in row:
        parts.append(f"cursor {fmt(row['deep_cursor'])} floor {row.get('floor_cursor', {}).get('p50')}")
    if "search" in row:
        parts.append(f"search {fmt(row['search'])}")
    if "rps" in row:
        parts.append(f"{row['rps']} req/s")
    print("| " + " | ".join(parts), flush=True)


def machine():
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "postgres": connection.cursor().connection.server_version,
        # Other work on the machine inflates every figure: the load average says how much.
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "database": settings.DATABASES["default"]["NAME"],
    }


def run(label: str, *, only=("api", "portal", "admin", "http", "tasks")) -> Path:
    from partners.models import Partner

    if not Partner.objects.filter(slug="bench-0000").exists():
        raise SystemExit("bench: no bench data in this database; run `make bench-data` first")
    # The refusals the matrix measures (403s) are expected: keep them out of the output.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    callers = [Caller(role, *creds) for role, creds in ROLES.items()]
    endpoints = api_list_endpoints()
    results = []
    started = time.perf_counter()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    if "api" in only:
        bench_api(callers, endpoints, results)
    if "portal" in only:
        bench_portal(callers, endpoints, results)
    if "admin" in only:
        bench_admin(callers, results)
    if "http" in only or "http4" in only:
        bench_http(callers, endpoints, results, single="http" in only)
    if "tasks" in only:
        bench_tasks(results)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{label}.json"
    payload = {
        "label": label,
        "at": datetime.now(UTC).isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine() | {"loadavg_at_start": load_at_start},
        "rows": results,
    }
    out.write_text(json.dumps(payload, indent=1))
    print(f"\nwritten {out} in {payload['seconds']} s")
    return out
