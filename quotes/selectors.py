"""Reads of quotes, orders and pricing for the portal, always from the caller's scope."""

from django.db.models import Count, Q

from partners.access import actor_of
from partners.models import Customer

from .models import DiscountSchedule, Order, OrderStatus, PriceBook, Product, Quote, QuoteStatus


def quote_list(*, user, status: str = "", search: str = ""):
    queryset = Quote.objects.for_user(user).select_related("customer", "partner")
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(customer__legal_name__icontains=search) | Q(opportunity_ref__icontains=search))
    return queryset.order_by("-created_at", "-id")


def quote_get(*, user, pk):
    return (
        Quote.objects.for_user(user)
        .select_related("customer", "partner__agreement", "partner__tier", "price_book", "decided_by")
        .prefetch_related("lines__product__product_line")
        .filter(pk=pk)
        .first()
    )


def quote_versions(*, user, quote):
    return Quote.objects.for_user(user).filter(chain=quote.chain).order_by("version")


def order_list(*, user, status: str = "", search: str = ""):
    queryset = Order.objects.for_user(user).select_related("customer", "partner")
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(customer__legal_name__icontains=search) | Q(external_ref__icontains=search))
    return queryset.order_by("-created_at", "-id")


def order_get(*, user, pk):
    return (
        Order.objects.for_user(user)
        .select_related("customer", "partner", "quote", "decided_by")
        .prefetch_related("lines__product", "events__actor")
        .filter(pk=pk)
        .first()
    )


def review_queue(*, user):
    """What waits for the parent: orders in review (oldest first) and quotes pending approval."""
    orders = (
        Order.objects.for_user(user)
        .filter(status__in=[OrderStatus.IN_REVIEW, OrderStatus.SUBMITTED, OrderStatus.FAILED])
        .select_related("customer", "partner")
        .order_by("submitted_at", "id")
    )
    quotes = (
        Quote.objects.for_user(user)
        .filter(status__in=[QuoteStatus.PENDING_APPROVAL, QuoteStatus.REQUESTED])
        .select_related("customer", "partner")
        .order_by("updated_at", "id")
    )
    return orders, quotes


def next_order_to_review(*, user, after):
    """The oldest order still waiting for review other than `after` (for "approve and next")."""
    return review_queue(user=user)[0].filter(status=OrderStatus.IN_REVIEW).exclude(pk=after.pk).first()


def next_quote_to_approve(*, user, after):
    """The quote waiting longest for approval other than `after` (for "approve and next")."""
    return review_queue(user=user)[1].filter(status=QuoteStatus.PENDING_APPROVAL).exclude(pk=after.pk).first()


def quotable_customers(*, user):
    return Customer.objects.for_user(user).order_by("legal_name")


def sellable_products(*, user):
    return Product.objects.for_user(user).filter(active=True).select_related("product_line").order_by("sku")


def current_price_books(*, user):
    return PriceBook.objects.for_user(user).current()


def discount_limits_for(*, user, partner) -> dict:
    """{product line name: max %} for the partner's tier, as the builder shows it."""
    if partner.tier_id is None:
        return {}
    rows = DiscountSchedule.objects.for_user(user).filter(tier_id=partner.tier_id).select_related("product_line")
    return {row.product_line.name: row.max_discount_percent for row in rows}


def status_counts(*, user, model):
    queryset = model.objects.for_user(user).order_by()
    return dict(queryset.values_list("status").annotate(n=Count("pk")))


def actor_partner(user):
    actor = actor_of(user)
    return actor.partner if actor.is_partner else None
