"""The agreement's pipeline visibility in one place: with `pipeline_visibility = after_order`, the
parent sees none of a partner's pipeline records (leads, registrations before they are submitted to
it, opportunities, quotes) until an order is placed for that customer. Every tenant queryset's
`visible_to_parent` hook builds on these conditions, so the API, portal, admin, selectors and
anything that reads through `for_user` (analytics, exports) apply the same rule."""

from django.db.models import Exists, OuterRef, Q

from .agreement import PipelineVisibility


def after_order(partner_path: str = "partner") -> Q:
    """The record's partner sees its pipeline shown after order. A subquery over the agreements (a
    few hundred partners, hashed once) rather than a join: a join is made for every row the list
    walks, 10,000 of them to reach page 200 of the parent's million registrations."""
    from .models import Agreement

    after = Agreement.objects.filter(pipeline_visibility=PipelineVisibility.AFTER_ORDER).values("partner_id")
    return Q(**{f"{partner_path}__in": after})


def order_placed_for(partner_path: str = "partner", customer_path: str = "customer") -> Q:
    """An order (past its draft) of the record's partner for the record's customer exists."""
    from quotes.models import Order, OrderStatus

    # The redundant `partner >= outer partner` keeps PostgreSQL from turning this EXISTS (it sits in
    # an OR) into a hashed subplan: that hashes every placed order of the channel (200k rows, ~70 ms)
    # before the first row of a page. Correlated per row instead, it is an index probe of the
    # (customer, status) index, and only for rows of partners that see their pipeline after order.
    placed = Order.objects.filter(
        partner=OuterRef(partner_path), partner__gte=OuterRef(partner_path), customer=OuterRef(customer_path)
    ).exclude(status=OrderStatus.DRAFT)
    return Q(Exists(placed))
