import django_filters

from prm.api.base import ScopedReadOnlyViewSet, documented_errors
from quotes.models import Product, ProductUnit

from .serializers import ProductSerializer


class ProductFilter(django_filters.FilterSet):
    product_line = django_filters.CharFilter(field_name="product_line__code")
    unit = django_filters.ChoiceFilter(choices=ProductUnit.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields = ["product_line", "unit", "active", "is_subscription"]


@documented_errors
class ProductViewSet(ScopedReadOnlyViewSet):
    """The product catalogue (read-only here; the parent maintains it in the admin)."""

    model = Product
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name", "list_price"]
    ordering = ["sku"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("product_line")
