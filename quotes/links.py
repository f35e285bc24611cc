"""Which orders belong to a deals opportunity: those that name it through their foreign key."""

from .models import LIVE_ORDER_STATUSES, Order, OrderStatus


def orders_for_opportunity(opportunity):
    """The opportunity's orders (same partner), whatever their status."""
    if opportunity.partner_id is None:
        return Order.objects.none()
    return Order.objects.for_partner(opportunity.partner_id).filter(opportunity_id=opportunity.pk)


def live_orders_for_opportunity(opportunity):
    return orders_for_opportunity(opportunity).filter(status__in=LIVE_ORDER_STATUSES)


def fulfilled_orders_for_opportunity(opportunity):
    return orders_for_opportunity(opportunity).filter(status=OrderStatus.FULFILLED)
