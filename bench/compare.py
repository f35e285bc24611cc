"""Before/after tables of two `bench run` result files, with the issue's targets met or missed."""

import json
from pathlib import Path

PARTNER_ROLES = ("partner rep", "partner admin (large)")
PARENT_ROLES = ("channel manager", "parent admin")


def load(path):
    data = json.loads(Path(path).read_text())
    return data, {(r["kind"], r["what"], r["role"]): r for r in data["rows"]}


def p50(row, key):
    value = (row or {}).get(key)
    if not value or value.get("status", 200) != 200:
        return None  # an error page's time is no figure
    return value["p50"]


def queries(row, key):
    value = (row or {}).get(key)
    return value.get("queries") if value else None


def ratio(row, key, floor):
    a, b = p50(row, key), p50(row, floor)
    return round(a / b, 1) if a is not None and b else None


def target(kind, role, row):
    """The issue's target for this row, and whether `row` meets it: (text, met or None)."""
    if row is None:
        return "", None
    if kind == "api" and role in PARTNER_ROLES:
        r = ratio(row, "page1", "floor1")
        # No floor: the list refuses this role (403) or it sees no rows of it; nothing to compare.
        return "page 1 ≤ 5× floor", None if r is None else r <= 5
    if kind == "api" and role in PARENT_ROLES:
        worst = max(
            (v for v in (p50(row, "page1"), p50(row, "deep"), p50(row, "deep_cursor")) if v is not None), default=None
        )
        return "page 1 and deep < 30 ms", None if worst is None else worst < 30
    if kind == "http1" and role in PARTNER_ROLES and p50(row, "page1") is not None:
        return "HTTP p50 < 10 ms", p50(row, "page1") < 10
    if kind == "http4" and role == "parent admin":
        return "4 clients ≥ 50 req/s", row.get("rps", 0) >= 50
    if kind == "admin":
        worst = max((v for v in (p50(row, "page1"), p50(row, "deep")) if v is not None), default=None)
        if worst is None:
            return "", None
        met = worst < 300 and (p50(row, "search") is None or p50(row, "search") < 500)
        return "< 300 ms, search < 500 ms", met
    return "", None


def task_cell(row):
    if row is None:
        return "—"
    return f"{row['task_ms']:g} ({row['queries']}): {row['outcome']} {row.get('error') or ''}"


def fmt(value, unit=""):
    return "—" if value is None else f"{value:g}{unit}"


def compare(before_path, after_path):
    before, b_rows = load(before_path)
    after, a_rows = load(after_path)
    print(f"Before: {before['label']} ({before['at']}); after: {after['label']} ({after['at']})")
    print(f"Machine: {after['machine']}\n")
    keys = list(dict.fromkeys([*b_rows, *a_rows]))
    kinds = {
        "api": "API lists, in-process (ms, p50)",
        "portal": "Portal pages, in-process",
        "admin": "Admin changelists",
        "http1": "HTTP, gunicorn, 1 client",
        "http4": "HTTP, gunicorn, 4 concurrent clients",
        "task": "Periodic tasks",
    }
    met_total = missed_total = 0
    for kind, title in kinds.items():
        rows = [k for k in keys if k[0] == kind]
        if not rows:
            continue
        print(f"\n### {title}\n")
        if kind == "task":
            print("| task | before: ms (queries): rows done | after: ms (queries): rows done |")
            print("| --- | --- | --- |")
            for k in rows:
                b, a = b_rows.get(k), a_rows.get(k)
                cell = task_cell
                print(f"| {k[1]} | {cell(b)} | {cell(a)} |")
            continue
        print(
            "| what | role | rows | page 1 before → after (q) | floor after | ratio before → after "
            "| deep before → after "
            "| cursor deep after (floor) | search before → after | req/s | target | met |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for k in rows:
            b, a = b_rows.get(k), a_rows.get(k)
            text, met = target(kind, k[2], a)
            if met is True:
                met_total += 1
            elif met is False:
                missed_total += 1
            deep_page = (a or b or {}).get("deep_page")
            print(
                "| "
                + " | ".join(
                    [
                        k[1],
                        k[2],
                        fmt((a or b or {}).get("rows")),
                        f"{fmt(p50(b, 'page1'))} ({fmt(queries(b, 'page1'))}) → "
                        f"{fmt(p50(a, 'page1'))} ({fmt(queries(a, 'page1'))})",
                        fmt(p50(a, "floor1")),
                        f"{fmt(ratio(b, 'page1', 'floor1'), '×')} → {fmt(ratio(a, 'page1', 'floor1'), '×')}",
                        (f"p{deep_page}: " if deep_page else "") + f"{fmt(p50(b, 'deep'))} → {fmt(p50(a, 'deep'))}",
                        f"{fmt(p50(a, 'deep_cursor'))} ({fmt(p50(a, 'floor_cursor'))})",
                        f"{fmt(p50(b, 'search'))} → {fmt(p50(a, 'search'))}",
                        f"{fmt((b or {}).get('rps'))} → {fmt((a or {}).get('rps'))}" if kind == "http4" else "",
                        text,
                        {True: "met", False: "**missed**", None: ""}[met],
                    ]
                )
                + " |"
            )
    print(f"\nTargets met: {met_total}, missed: {missed_total}")
