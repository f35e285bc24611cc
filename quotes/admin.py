from django.contrib import admin

from partners.admin import ScopedAdmin

from .models import Product


@admin.register(Product)
class ProductAdmin(ScopedAdmin):
    list_display = ["sku", "name", "product_line", "unit", "list_price", "currency", "active"]
    list_filter = ["active", "product_line", "unit", "is_subscription"]
    search_fields = ["sku", "name"]
    list_select_related = ["product_line"]
    actions = ["deactivate"]

    @admin.action(description="Withdraw the selected products from sale")
    def deactivate(self, request, queryset):
        count = queryset.update(active=False)
        self.message_user(request, f"{count} products withdrawn.")
