from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "quotes"
    verbose_name = "Quotes and orders"

    def ready(self):
        register_portal()


def register_portal():
    from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

    register_nav(NavEntry("Quotes", "quotes:quote-list", order=30))
    register_nav(NavEntry("Orders", "quotes:order-list", order=31))
    register_nav(NavEntry("Order review", "quotes:review-queue", order=32, visible=lambda actor: actor.is_parent))
    register_home_card(HomeCard("Quotes and orders", _figures, order=30))


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
