"""Pagination of every API list: page numbers (`?page=`) or a keyset cursor (`?cursor=`).

- The order is always total: the primary key is appended as a tie-breaker (same direction as the
  first ordering field, so one composite index serves it), whatever `?ordering=` asked for.
- `?page=N` reads `page_size + 1` rows at an offset: `next` comes from the extra row, not from a
  count. `count` is exact up to `API_EXACT_COUNT_LIMIT` rows (a bounded count) and above that the
  planner's estimate on PostgreSQL (`count_exact: false`), so no request counts a million rows.
- `?cursor=` (empty to start) pages by keyset: `WHERE (created_at, id) < (…)` on the ordering's
  own index, as fast on page 20,000 as on page 1. `next`/`previous` carry the cursor. An ordering on
  a nullable or related field pages by an offset kept in the cursor instead (still correct).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
from collections import OrderedDict

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections, transaction
from django.db.models import Q
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

EXACT_COUNT_LIMIT_DEFAULT = 2000


def exact_count_limit() -> int:
    return getattr(settings, "API_EXACT_COUNT_LIMIT", EXACT_COUNT_LIMIT_DEFAULT)


# Ordering --------------------------------------------------------------------------------------


def total_ordering(queryset) -> list:
    """The queryset's ordering with the primary key appended when it is missing."""
    query = queryset.query
    ordering = list(query.order_by) if query.order_by else list(queryset.model._meta.ordering or [])
    names = {o.lstrip("-") for o in ordering if isinstance(o, str)}
    if not names.intersection({"pk", "id", queryset.model._meta.pk.attname, queryset.model._meta.pk.name}):
        first = ordering[0] if ordering else "-pk"
        descending = first.startswith("-") if isinstance(first, str) else bool(getattr(first, "descending", False))
        ordering.append("-pk" if descending else "pk")
    return ordering


def stable(queryset):
    return queryset.order_by(*total_ordering(queryset))


def keyset_fields(model, ordering):
    """[(field, descending)] when every ordering term is a plain non-null column, else None."""
    fields = []
    for term in ordering:
        if not isinstance(term, str) or term.lstrip("-") == "?" or "__" in term:
            return None
        name = term.lstrip("-")
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            return None  # an annotation: page by offset
        if not getattr(field, "concrete", False) or field.null or field.many_to_many:
            return None
        fields.append((field, term.startswith("-")))
    return fields


# Cursor tokens ---------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _encode(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_cursor(values, *, ordering=None, reverse=False) -> str:
    """A cursor positioned after the row whose ordering values are `values` (for tools and tests)."""
    return _encode({"v": [_plain(v) for v in values], "r": int(reverse)})


def decode_cursor(token: str) -> dict:
    if not token:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise NotFound("Invalid cursor.") from None
    if not isinstance(payload, dict):
        raise NotFound("Invalid cursor.")
    return payload


def keyset_filter(fields, values, *, forward=True) -> Q:
    """Rows strictly after (forward) or before the position `values` in the ordering `fields`."""
    if len(values) != len(fields):
        raise NotFound("Invalid cursor.")
    typed = []
    for (field, _desc), value in zip(fields, values, strict=True):
        try:
            typed.append(field.to_python(value))
        except (ValidationError, TypeError, ValueError):
            raise NotFound("Invalid cursor.") from None
    alternatives = []
    equal = Q()
    for (field, descending), value in zip(fields, typed, strict=True):
        op = "lt" if descending == forward else "gt"
        alternatives.append(equal & Q(**{f"{field.attname}__{op}": value}))
        equal &= Q(**{field.attname: value})
    condition = alternatives[0]
    for alternative in alternatives[1:]:
        condition |= alternative
    # The leading column's inclusive bound is implied by the OR above, but said outright it becomes
    # the index condition instead of a filter over every row before the position.
    first, descending = fields[0]
    bound = "lte" if descending == forward else "gte"
    return Q(**{f"{first.attname}__{bound}": typed[0]}) & condition


def reversed_ordering(ordering):
    return [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]


# Fetching --------------------------------------------------------------------------------------

#: A queryset hint (`as_written(queryset)`): read its pages with the joins in their written order.
WRITTEN_ORDER_HINT = "prm_written_join_order"


def as_written(queryset):
    """Mark a list whose page PostgreSQL should plan in the written join order: the list's own table
    from its index first, then each join. For a list of many joins whose scope is on its own table
    (the case list joins nine tables: 10–35 ms of planning at 1M rows for 0.6 ms of execution). Not
    for a scope that a subquery should drive (a rep's contracts start from their customers)."""
    queryset = queryset.all()
    queryset._hints = {**queryset._hints, WRITTEN_ORDER_HINT: True}
    return queryset


def fetch(queryset) -> list:
    """A page's rows (and their prefetches); on PostgreSQL, a list marked `as_written` is planned in
    its written join order, for this transaction only (`SET LOCAL join_collapse_limit = 1`)."""
    if not hasattr(queryset, "query"):
        return list(queryset)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not queryset._hints.get(WRITTEN_ORDER_HINT):
        return list(queryset)
    inside = connection.in_atomic_block  # then the setting would outlive the page: put it back
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        cursor.execute("SET LOCAL join_collapse_limit = 1")
        rows = list(queryset)  # an error rolls the savepoint back, and the setting with it
        if inside:
            cursor.execute("SET LOCAL join_collapse_limit TO DEFAULT")
        return rows


#: From this offset on, a page is read in two steps (a "deferred join"): first the ids of its rows,
#: from the list's index alone, then those rows with their joins and prefetches. Walking 10,000 rows
#: of an index to reach page 200 is cheap; reading and joining 10,000 whole rows to drop them is not.
DEFERRED_JOIN_FROM_OFFSET = 1000


def fetch_slice(queryset, offset: int, limit: int) -> list:
    """`queryset[offset:offset + limit]` as a list, the same rows in the same order."""
    plain = (
        offset < DEFERRED_JOIN_FROM_OFFSET
        or not hasattr(queryset, "query")
        or queryset._iterable_class is not ModelIterable  # .values() rows have no pk to look up
        or queryset.query.combinator
        or queryset.query.distinct
    )
    if plain:
        return fetch(queryset[offset : offset + limit])
    ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
    if not ids:
        return []
    rows = {row.pk: row for row in fetch(queryset.filter(pk__in=ids))}
    return [rows[pk] for pk in ids if pk in rows]


# Counting --------------------------------------------------------------------------------------


def estimated_count(queryset) -> int | None:
    """The planner's row estimate for the queryset (PostgreSQL), without running it."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset, limit=None) -> tuple[int | None, bool]:
    """(count, exact): exact up to `limit` rows; above, the planner's estimate (never below the limit)."""
    limit = exact_count_limit() if limit is None else limit
    # One query for a small list; the planner's estimate (a second, cheap one) only above the limit.
    seen = queryset.order_by().values("pk")[: limit + 1].count()
    if seen <= limit:
        return seen, True
    estimate = estimated_count(queryset)
    return (max(estimate, seen) if estimate is not None else None), False


class BoundedCountPaginator(Paginator):
    """Django's Paginator for the portal, with `count` exact when small and estimated above the
    limit (`count_exact` says which), so a page never counts a million rows."""

    count_exact = True

    @cached_property
    def count(self):
        if hasattr(self.object_list, "query"):
            count, self.count_exact = bounded_count(self.object_list)
            # Without an estimate (not PostgreSQL): at least the limit and one more.
            return count if count is not None else exact_count_limit() + 1
        return len(self.object_list)

    def validate_number(self, number):
        if self.count and not self.count_exact:
            # An estimate may be short of the truth: any page may hold rows; an empty one is the end.
            try:
                number = int(number)
            except (TypeError, ValueError):
                raise PageNotAnInteger("That page number is not an integer") from None
            if number < 1:
                raise EmptyPage("That page number is less than 1")
            return number
        return super().validate_number(number)

    def page(self, number):
        """One row more than the page shows tells whether there is a next page."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = fetch_slice(self.object_list, bottom, self.per_page + 1)
        return BoundedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class BoundedPage(Page):
    def __init__(self, object_list, number, paginator, *, more):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more


# The pagination class --------------------------------------------------------------------------


class PageNumberPagination(BasePagination):
    """Page numbers or a keyset cursor; see the module docstring."""

    page_size_query_param = "page_size"
    max_page_size = 100
    page_query_param = "page"
    cursor_query_param = "cursor"

    def __init__(self):
        self.page_size = settings.REST_FRAMEWORK.get("PAGE_SIZE") or 25

    def get_page_size(self, request):
        try:
            size = int(request.query_params.get(self.page_size_query_param, self.page_size))
        except (TypeError, ValueError):
            return self.page_size
        return self.page_size if size <= 0 else min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = self.get_page_size(request)
        self.count, self.count_exact = None, True
        self.next_link = self.previous_link = None
        if not hasattr(queryset, "query"):
            return self._list_page(list(queryset), request)  # a plain list: it is all in memory anyway
        ordering = total_ordering(queryset)
        queryset = queryset.order_by(*ordering)
        if self.cursor_query_param in request.query_params:
            return self._cursor_page(queryset, ordering, request)
        return self._number_page(queryset, request)

    # Page numbers ----------------------------------------------------------------------------
    def _number_page(self, queryset, request):
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
            # Beyond a 64-bit offset no database has rows (and SQLite refuses the number itself).
            if number < 1 or (number - 1) * self.size > 2**62:
                raise ValueError
        except (TypeError, ValueError):
            raise NotFound("Invalid page.") from None
        offset = (number - 1) * self.size
        rows = fetch_slice(queryset, offset, self.size + 1)
        if number > 1 and not rows:
            raise NotFound("Invalid page.")
        has_next = len(rows) > self.size
        rows = rows[: self.size]
        if number == 1 and not has_next:
            self.count = len(rows)  # the whole list is on this page: no count query
        else:
            self.count, self.count_exact = bounded_count(queryset)
        url = request.build_absolute_uri()
        if has_next:
            self.next_link = replace_query_param(url, self.page_query_param, number + 1)
        if number > 1:
            self.previous_link = (
                remove_query_param(url, self.page_query_param)
                if number == 2
                else replace_query_param(url, self.page_query_param, number - 1)
            )
        return rows

    def _list_page(self, rows, request):
        self.count = len(rows)
        try:
            number = int(request.query_params.get(self.page_query_param, "1"))
            if number < 1:
                raise ValueError
        except (TypeError, ValueError):
            raise NotFound("Invalid page.") from None
        offset = (number - 1) * self.size
        if number > 1 and offset >= len(rows):
            raise NotFound("Invalid page.")
        url = request.build_absolute_uri()
        if offset + self.size < len(rows):
            self.next_link = replace_query_param(url, self.page_query_param, number + 1)
        if number > 1:
            self.previous_link = replace_query_param(url, self.page_query_param, number - 1)
        return rows[offset : offset + self.size]

    # Cursor ----------------------------------------------------------------------------------
    def _cursor_page(self, queryset, ordering, request):
        payload = decode_cursor(request.query_params.get(self.cursor_query_param, ""))
        self.count_exact = False  # cursor pages do not count
        fields = keyset_fields(queryset.model, ordering)
        url = request.build_absolute_uri()
        if fields is None:
            return self._offset_cursor_page(queryset, payload, url)
        values, backwards = payload.get("v"), bool(payload.get("r"))
        if values is None:
            page_qs = queryset
        elif backwards:
            page_qs = queryset.filter(keyset_filter(fields, values, forward=False)).order_by(
                *reversed_ordering(ordering)
            )
        else:
            page_qs = queryset.filter(keyset_filter(fields, values, forward=True))
        rows = fetch(page_qs[: self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        if backwards:
            rows.reverse()
        position = lambda row: [_plain(getattr(row, f.attname)) for f, _ in fields]  # noqa: E731
        has_next = more if not backwards else True
        has_previous = (values is not None) if not backwards else more
        if rows and has_next:
            self.next_link = replace_query_param(url, self.cursor_query_param, _encode({"v": position(rows[-1])}))
        if rows and has_previous:
            self.previous_link = replace_query_param(
                url, self.cursor_query_param, _encode({"v": position(rows[0]), "r": 1})
            )
        return rows

    def _offset_cursor_page(self, queryset, payload, url):
        try:
            offset = max(int(payload.get("o", 0)), 0)
        except (TypeError, ValueError):
            raise NotFound("Invalid cursor.") from None
        rows = fetch_slice(queryset, offset, self.size + 1)
        if len(rows) > self.size:
            self.next_link = replace_query_param(url, self.cursor_query_param, _encode({"o": offset + self.size}))
        if offset > 0:
            self.previous_link = replace_query_param(
                url, self.cursor_query_param, _encode({"o": max(offset - self.size, 0)})
            )
        return rows[: self.size]

    # Response --------------------------------------------------------------------------------
    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("count_exact", self.count_exact),
                    ("next", self.next_link),
                    ("previous", self.previous_link),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": "Exact up to a limit, then an estimate (see count_exact); null on cursor pages.",
                },
                "count_exact": {"type": "boolean"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number (1-based).",
                "schema": {"type": "integer"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (at most {self.max_page_size}).",
                "schema": {"type": "integer"},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset paging: empty for the first page, then the cursor from `next`/`previous`.",
                "schema": {"type": "string"},
            },
        ]
