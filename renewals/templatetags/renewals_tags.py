from django import template

from renewals import permissions, selectors

register = template.Library()


@register.filter
def values_shown_to(obj, user) -> bool:
    return permissions.shows_values(user, obj)


@register.filter
def workable_by(renewal, user) -> bool:
    return renewal.is_open and permissions.can_work(user, renewal)


@register.inclusion_tag("renewals/_customer_ltv.html", takes_context=True)
def customer_ltv(context, customer):
    """The customer's lifetime value and renewal history, on the customer page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not permissions.shows_values(user):
        return {"ltv": None}
    return {"ltv": selectors.customer_lifetime_value(user=user, customer=customer)}
