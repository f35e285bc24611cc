from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "quotes"
    verbose_name = "Quotes and orders"

    def ready(self):
        register_portal()


def register_portal():
    from partners import portal
    from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

    register_nav(NavEntry("Quotes", "quotes:quote-list", order=30, visible=portal.quotes))
    register_nav(NavEntry("Orders", "quotes:order-list", order=31, visible=portal.orders))
    register_nav(NavEntry("Order review", "quotes:review-queue", order=32, visible=portal.reviews_orders))
    register_home_card(HomeCard("Quotes and orders", _figures, order=30, visible=portal.quotes))
    portal.register_todo(portal.Todo("quotes", _todos, order=30))


def _todos(user):
    from django.urls import reverse

    from partners import portal
    from partners.access import actor_of

    from .models import Order, OrderStatus, Quote, QuoteStatus
    from .selectors import status_counts

    actor = actor_of(user)
    if not portal.quotes(actor):
        return []
    quotes = status_counts(user=user, model=Quote)
    quote_url = reverse("quotes:quote-list")
    if actor.is_parent:
        orders = status_counts(user=user, model=Order)
        return [
            (
                "Quotes waiting for your approval",
                quotes.get(QuoteStatus.PENDING_APPROVAL, 0),
                reverse("quotes:review-queue"),
            ),
            ("Quotes requested by partners", quotes.get(QuoteStatus.REQUESTED, 0), f"{quote_url}?status=requested"),
            ("Orders to review", orders.get(OrderStatus.IN_REVIEW, 0), reverse("quotes:review-queue")),
        ]
    return [
        (
            "Approved quotes to send to the customer",
            quotes.get(QuoteStatus.APPROVED, 0),
            f"{quote_url}?status=approved",
        ),
        ("Quotes returned for changes", quotes.get(QuoteStatus.RETURNED, 0), f"{quote_url}?status=returned"),
    ]


def _figures(user):
    from django.urls import reverse

    from .models import Order, OrderStatus, Quote, QuoteStatus
    from .selectors import status_counts

    quotes = status_counts(user=user, model=Quote)
    orders = status_counts(user=user, model=Order)
    quote_url, order_url = reverse("quotes:quote-list"), reverse("quotes:order-list")
    rows = [
        (label, quotes.get(value, 0), f"{quote_url}?status={value}")
        for value, label in QuoteStatus.choices
        if value in (QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.SENT)
    ]
    rows += [
        (f"Orders {label.lower()}", orders.get(value, 0), f"{order_url}?status={value}")
        for value, label in OrderStatus.choices
        if value in (OrderStatus.IN_REVIEW, OrderStatus.PROVISIONING, OrderStatus.FULFILLED)
    ]
    return rows
