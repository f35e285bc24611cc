"""The product catalogue, price books and (later) quotes and orders."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from partners.access import TenantQuerySet


class ProductUnit(models.TextChoices):
    SEAT_MONTH = "seat_month", "Seat per month"
    SEAT_YEAR = "seat_year", "Seat per year"
    INSTANCE_MONTH = "instance_month", "Instance per month"
    GB_MONTH = "gb_month", "GB per month"
    ONE_TIME = "one_time", "One-time"


class ProductQuerySet(TenantQuerySet):
    """The catalogue is shared by the whole channel: every signed-in parent or partner user reads
    it; partners see only active products."""

    def for_user(self, user):
        from partners.access import actor_of

        actor = actor_of(user)
        if actor.is_parent:
            return self
        if actor.is_partner:
            return self.filter(active=True)
        return self.none()

    def for_partner(self, partner_id):
        return self.filter(active=True)


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    product_line = models.ForeignKey("partners.ProductLine", on_delete=models.PROTECT, related_name="products")
    unit = models.CharField(max_length=20, choices=ProductUnit.choices)
    is_subscription = models.BooleanField(default=True)
    list_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=Q(list_price__gte=0), name="product_price_nonneg")]

    def __str__(self):
        return f"{self.sku} {self.name}"
