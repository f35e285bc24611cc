"""Money arithmetic and price look-ups. Every amount is a Decimal rounded half-up to cents at line
level; the header discount applies to the sum of the rounded line amounts."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import ZERO, DiscountSchedule, PartnerPrice, PriceBook, PriceBookEntry, cents

HUNDRED = Decimal("100")


def line_net(unit_price, quantity, discount_percent) -> Decimal:
    """quantity × unit price, less the line discount, rounded half-up to cents."""
    gross = Decimal(unit_price) * Decimal(quantity)
    return cents(gross - gross * Decimal(discount_percent) / HUNDRED)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    header_discount_amount: Decimal
    total: Decimal


def totals(line_amounts, header_discount_percent) -> Totals:
    subtotal = cents(sum((Decimal(a) for a in line_amounts), ZERO))
    header = cents(subtotal * Decimal(header_discount_percent) / HUNDRED)
    return Totals(subtotal=subtotal, header_discount_amount=header, total=subtotal - header)


def effective_discount(line_percent, header_percent) -> Decimal:
    """The discount a customer gets on a line once the header discount applies on top of it."""
    remaining = (HUNDRED - Decimal(line_percent)) * (HUNDRED - Decimal(header_percent)) / HUNDRED
    return (HUNDRED - remaining).quantize(Decimal("0.01"))


def default_price_book(on=None):
    return PriceBook.objects.current(on).order_by("-is_default", "name").first()


def unit_price_for(*, partner, price_book, product, on=None) -> Decimal:
    """A partner's price agreement wins over the price book; a product missing from the book is a 400."""
    on = on or timezone.localdate()
    agreed = (
        PartnerPrice.objects.for_partner(partner.pk)
        .current(on)
        .filter(product=product, currency=price_book.currency)
        .order_by("unit_price")
        .first()
    )
    if agreed is not None:
        return agreed.unit_price
    entry = PriceBookEntry.objects.filter(price_book=price_book, product=product).first()
    if entry is None:
        raise ValidationError({"lines": [f"{product.sku} is not in the price book {price_book.name}."]})
    return entry.unit_price


def discount_limits(partner) -> dict:
    """{product_line_id: max discount %} for the partner's tier; lines without a schedule allow 0%."""
    if partner.tier_id is None:
        return {}
    return dict(
        DiscountSchedule.objects.filter(tier_id=partner.tier_id).values_list("product_line_id", "max_discount_percent")
    )


def discount_excesses(*, partner, lines, header_discount_percent) -> list[str]:
    """The lines whose effective discount exceeds the tier maximum, in words."""
    limits = discount_limits(partner)
    problems = []
    for line in lines:
        limit = limits.get(line.product.product_line_id, ZERO)
        effective = effective_discount(line.discount_percent, header_discount_percent)
        if effective > limit:
            problems.append(f"{line.product.sku}: discount {effective}% is above the tier maximum of {limit}%.")
    return problems
