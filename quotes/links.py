"""Which orders belong to a deals opportunity. Today an order names its opportunity through its
quote's `opportunity_ref` ("opportunity:<id>"); when orders get a foreign key to the opportunity,
only this module changes."""

from .models import LIVE_ORDER_STATUSES, Order, OrderStatus


def orders_for_opportunity(opportunity):
    """The opportunity's orders (same partner), whatever their status."""
    if opportunity.partner_id is None:
        return Order.objects.none()
    return Order.objects.for_partner(opportunity.partner_id).filter(
        quote__opportunity_ref=f"opportunity:{opportunity.pk}"
    )


def live_orders_for_opportunity(opportunity):
    return orders_for_opportunity(opportunity).filter(status__in=LIVE_ORDER_STATUSES)


def fulfilled_orders_for_opportunity(opportunity):
    return orders_for_opportunity(opportunity).filter(status=OrderStatus.FULFILLED)
