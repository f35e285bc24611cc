"""Factories for price books, quotes and orders. Lines keep their quote's or order's partner."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from partners.models import ProgramTier
from quotes.models import (
    BusinessRule,
    DiscountSchedule,
    Order,
    OrderLine,
    PartnerPrice,
    PriceBook,
    PriceBookEntry,
    Quote,
    QuoteLine,
    RuleSeverity,
)
from quotes.pricing import line_net, totals
from tests.factories import CustomerFactory, PartnerFactory, ProductFactory


class PriceBookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBook
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Book {n}")
    currency = "USD"
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    is_default = True


class PriceBookEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBookEntry

    price_book = factory.SubFactory(PriceBookFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = factory.LazyAttribute(lambda o: o.product.list_price)


class DiscountScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiscountSchedule
        django_get_or_create = ("tier", "product_line")

    tier = factory.LazyFunction(lambda: ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})[0])
    product_line = factory.LazyAttribute(lambda o: ProductFactory().product_line)
    max_discount_percent = Decimal("15.00")


class PartnerPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerPrice

    partner = factory.SubFactory(PartnerFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = Decimal("8.00")


class BusinessRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "order_value_limit"
    severity = RuleSeverity.BLOCKING


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    partner = factory.SubFactory(PartnerFactory)
    customer = factory.SubFactory(CustomerFactory)
    price_book = factory.SubFactory(PriceBookFactory, name="Standard")
    currency = factory.LazyAttribute(lambda o: o.price_book.currency)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class QuoteLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteLine

    quote = factory.SubFactory(QuoteFactory)
    partner = factory.LazyAttribute(lambda o: o.quote.partner)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.product.list_price)
    discount_percent = Decimal("0")
    net_amount = factory.LazyAttribute(lambda o: line_net(o.unit_price, o.quantity, o.discount_percent))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    partner = factory.SubFactory(PartnerFactory)
    customer = factory.SubFactory(CustomerFactory)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    partner = factory.LazyAttribute(lambda o: o.order.partner)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.product.list_price)
    discount_percent = Decimal("0")
    net_amount = factory.LazyAttribute(lambda o: line_net(o.unit_price, o.quantity, o.discount_percent))


def with_totals(obj):
    """Recompute a factory-built quote's or order's totals from its lines."""
    result = totals(obj.lines.values_list("net_amount", flat=True), obj.header_discount_percent)
    obj.subtotal, obj.header_discount_amount, obj.total = result.subtotal, result.header_discount_amount, result.total
    obj.save()
    return obj


def quote_with_line(partner, customer=None, *, created_by=None, product=None, quantity=1, **fields):
    quote = QuoteFactory(partner=partner, customer=customer or CustomerFactory(), created_by=created_by, **fields)
    QuoteLineFactory(quote=quote, product=product or ProductFactory(), quantity=quantity)
    return with_totals(quote)


def order_with_line(partner, customer=None, *, created_by=None, product=None, quantity=1, **fields):
    order = OrderFactory(partner=partner, customer=customer or CustomerFactory(), created_by=created_by, **fields)
    OrderLineFactory(order=order, product=product or ProductFactory(), quantity=quantity)
    return with_totals(order)
