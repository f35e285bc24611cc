"""Numbers stay inside their columns. Every save of a project model checks each decimal and integer
field against what the database column holds (max_digits/decimal_places, the integer type's range)
and refuses with a field error (400) before PostgreSQL raises a DataError or SQLite stores a value
that later breaks every page that reads it. Inputs are validated where they arrive; this also covers
computed amounts (line totals, commissions) that no form sees."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Sum
from django.db.models.signals import pre_save

PROJECT_APPS = {"partners", "deals", "quotes", "cases", "renewals", "mdf", "analytics"}

INTEGER_RANGES = {
    "SmallIntegerField": (-32768, 32767),
    "PositiveSmallIntegerField": (0, 32767),
    "IntegerField": (-2147483648, 2147483647),
    "PositiveIntegerField": (0, 2147483647),
    "BigIntegerField": (-9223372036854775808, 9223372036854775807),
    "PositiveBigIntegerField": (0, 9223372036854775807),
}


def decimal_fits(value, max_digits: int, decimal_places: int) -> bool:
    """True when `value`, rounded to the column's places, has at most max_digits - decimal_places
    digits before the point and is finite."""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return False
    if not value.is_finite():
        return False
    return abs(value) < Decimal(10) ** (max_digits - decimal_places)


def max_decimal(max_digits: int, decimal_places: int) -> Decimal:
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(10) ** -decimal_places


def field_error(field, value) -> str | None:
    if value is None or isinstance(value, models.expressions.Combinable):
        return None
    if isinstance(field, models.DecimalField):
        if not decimal_fits(value, field.max_digits, field.decimal_places):
            return f"Ensure this value is at most {max_decimal(field.max_digits, field.decimal_places):,}."
        return None
    limits = INTEGER_RANGES.get(field.get_internal_type())
    if limits is not None and not isinstance(field, models.AutoField):
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return "Enter a whole number."
        low, high = limits
        if not low <= number <= high:
            return f"Ensure this value is between {low:,} and {high:,}."
    return None


def check_bounds(sender, instance, raw=False, **kwargs):
    if raw or sender._meta.app_label not in PROJECT_APPS:
        return
    errors = {}
    for field in sender._meta.concrete_fields:
        if isinstance(field, models.DecimalField | models.IntegerField):
            message = field_error(field, getattr(instance, field.attname))
            if message:
                errors[field.name] = [message]
    if errors:
        raise ValidationError(errors, code="out_of_range")


def connect():
    pre_save.connect(check_bounds, dispatch_uid="prm.security.bounds")


def fits(model, field_name: str, value) -> bool:
    field = model._meta.get_field(field_name)
    return decimal_fits(value, field.max_digits, field.decimal_places)


def money(value, model, field_name: str) -> Decimal:
    """Parse an amount typed by a person for `model.field_name`: a finite number, rounded to the
    column's places, that the column holds; else a field error (400)."""
    field = model._meta.get_field(field_name)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field_name: ["Enter a number."]}, code="invalid")
    if not amount.is_finite():
        raise ValidationError({field_name: ["Enter a number."]}, code="invalid")
    amount = amount.quantize(Decimal(10) ** -field.decimal_places, rounding=ROUND_HALF_UP)
    if not decimal_fits(amount, field.max_digits, field.decimal_places):
        message = f"Ensure this value is at most {max_decimal(field.max_digits, field.decimal_places):,}."
        raise ValidationError({field_name: [message]}, code="max_value")
    return amount


def money_sum(expression: str) -> Sum:
    """A SUM of money wide enough for any number of rows (the column's own precision is too narrow for a total:
    SQLite's decimal converter then raises on read)."""
    return Sum(expression, output_field=models.DecimalField(max_digits=30, decimal_places=2))


def parse_id(value) -> int | None:
    """An id from a query string or form: a positive integer a BIGINT column holds, else None (a
    30-digit `?queue=` is "no such queue", not an OverflowError in SQLite's driver)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= INTEGER_RANGES["BigIntegerField"][1] else None
