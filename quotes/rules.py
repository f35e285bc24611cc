"""The business rules an order must pass when it is submitted. Each active BusinessRule row names a
kind (the check) and a severity: a failed blocking rule refuses the order (400 naming every failed
rule); a failed review rule sends it to manual review."""

from decimal import Decimal

from partners.agreement import OrderAccess
from partners.models import RelationshipKind
from prm.security.bounds import money_sum

from .models import LIVE_ORDER_STATUSES, OPEN_ORDER_STATUSES, ZERO, BusinessRule, Order, RuleKind
from .pricing import discount_excesses


def _product_line_authorised(rule, ctx):
    allowed = set(ctx["partner"].expertise.values_list("pk", flat=True))
    return [
        f"{line.product.sku}: {ctx['partner'].brand_name} is not authorised for {line.product.product_line.name}."
        for line in ctx["lines"]
        if line.product.product_line_id not in allowed
    ]


def _quantity_limits(rule, ctx):
    problems = []
    for line in ctx["lines"]:
        if rule.product_line_id and line.product.product_line_id != rule.product_line_id:
            continue
        if rule.min_quantity is not None and line.quantity < rule.min_quantity:
            problems.append(f"{line.product.sku}: quantity {line.quantity} is below the minimum {rule.min_quantity}.")
        if rule.max_quantity is not None and line.quantity > rule.max_quantity:
            problems.append(f"{line.product.sku}: quantity {line.quantity} is above the maximum {rule.max_quantity}.")
    return problems


def _discount_within_tier(rule, ctx):
    return discount_excesses(
        partner=ctx["partner"], lines=ctx["lines"], header_discount_percent=ctx["order"].header_discount_percent
    )


def _customer_in_territory(rule, ctx):
    countries = set(ctx["partner"].territories.values_list("country", flat=True))
    customer = ctx["customer"]
    if customer.country not in countries:
        return [f"The customer's country {customer.country} is outside the partner's territory."]
    return []


def _open_orders_value(order):
    return (
        Order.objects.for_partner(order.partner_id)
        .filter(status__in=OPEN_ORDER_STATUSES)
        .exclude(pk=order.pk)
        .aggregate(total=money_sum("total"))["total"]
        or ZERO
    )


def _credit_limit(rule, ctx):
    order, partner = ctx["order"], ctx["partner"]
    open_value = _open_orders_value(order) + order.total
    if open_value > partner.credit_limit:
        return [f"Open order value {open_value} would exceed the credit limit of {partner.credit_limit}."]
    return []


def _customer_not_owned_by_other(rule, ctx):
    owner_id = ctx["customer"].owner_partner_id
    if owner_id is not None and owner_id != ctx["partner"].pk:
        return ["The customer is owned by another partner."]
    return []


def _has_live_order(order):
    return Order.objects.filter(customer_id=order.customer_id, status__in=LIVE_ORDER_STATUSES).exclude(pk=order.pk)


def _agreement_allows_customer(rule, ctx):
    order, partner = ctx["order"], ctx["partner"]
    if order.placed_by_parent:
        return []
    access = partner.agreement.order_access
    if access == OrderAccess.NONE:
        return ["The partner's agreement does not let it place orders."]
    if access == OrderAccess.INITIAL_ONLY:
        problems = []
        originated = partner.customer_relationships.filter(
            customer_id=order.customer_id, kind=RelationshipKind.ORIGINATING
        ).exists()
        if not originated:
            problems.append("The agreement allows orders only for customers this partner registered.")
        if _has_live_order(order).exists():
            problems.append("The agreement allows only the customer's initial order.")
        return problems
    return []


def _first_order_of_customer(rule, ctx):
    if not _has_live_order(ctx["order"]).filter(status="fulfilled").exists():
        return ["This is the first order of a new customer."]
    return []


def _order_value_limit(rule, ctx):
    threshold = rule.threshold if rule.threshold is not None else Decimal("0")
    if ctx["order"].total > threshold:
        return [f"Order value {ctx['order'].total} is above {threshold}."]
    return []


CHECKS = {
    RuleKind.PRODUCT_LINE_AUTHORISED: _product_line_authorised,
    RuleKind.QUANTITY_LIMITS: _quantity_limits,
    RuleKind.DISCOUNT_WITHIN_TIER: _discount_within_tier,
    RuleKind.CUSTOMER_IN_TERRITORY: _customer_in_territory,
    RuleKind.CREDIT_LIMIT: _credit_limit,
    RuleKind.CUSTOMER_NOT_OWNED_BY_OTHER: _customer_not_owned_by_other,
    RuleKind.AGREEMENT_ALLOWS_CUSTOMER: _agreement_allows_customer,
    RuleKind.FIRST_ORDER_OF_CUSTOMER: _first_order_of_customer,
    RuleKind.ORDER_VALUE_LIMIT: _order_value_limit,
}


def evaluate(order) -> list[dict]:
    """Every active rule's result for the order: {rule, kind, severity, passed, messages}."""
    ctx = {
        "order": order,
        "partner": order.partner,
        "customer": order.customer,
        "lines": list(order.lines.select_related("product__product_line")),
    }
    results = []
    for rule in BusinessRule.objects.filter(active=True).order_by("position", "name"):
        messages = CHECKS[RuleKind(rule.kind)](rule, ctx)
        results.append(
            {
                "rule": rule.name,
                "kind": rule.kind,
                "severity": rule.severity,
                "passed": not messages,
                "messages": messages,
            }
        )
    return results
