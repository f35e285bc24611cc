from rest_framework import serializers

from quotes.models import Product


class ProductSerializer(serializers.ModelSerializer):
    product_line = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "product_line",
            "unit",
            "is_subscription",
            "list_price",
            "currency",
            "active",
            "description",
        ]
        read_only_fields = fields
