"""The parent's admin for contracts, renewals and the timing rules the parent follows before pursuing
an either-model renewal. Uplift, commission and marketing settings per agreement are dimensions of
the agreement (partners' admin, Agreement inline). Actions call the services."""

from django.contrib import admin, messages
from django.utils import timezone

from partners import services as partner_services
from partners.access import ParentRole
from partners.admin import ScopedAdmin, ScopedInline

from . import services
from .models import MILESTONES, OPEN_RENEWAL_STATUSES, Contract, ContractLine, Renewal, RenewalReminder, TimingRule


class ContractLineInline(ScopedInline):
    model = ContractLine
    extra = 0
    fields = ["term_number", "product", "quantity", "unit_price", "term_start", "term_end", "annual_value", "amount"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(ScopedAdmin):
    list_display = [
        "number",
        "customer",
        "partner",
        "originating_partner",
        "product_line",
        "status",
        "term_end",
        "annual_value",
    ]
    list_filter = ["status", "partner", "product_line"]
    search_fields = ["customer__legal_name", "partner__name"]
    list_select_related = ["customer", "partner", "originating_partner", "product_line"]
    inlines = [ContractLineInline]
    readonly_fields = [f.name for f in Contract._meta.fields]
    actions = ["cancel_contracts"]

    def has_add_permission(self, request):
        return False  # contracts come from fulfilled orders

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel the selected contracts (the customer terminated)")
    def cancel_contracts(self, request, queryset):
        done = sum(
            self.run_service(request, services.contract_cancel, contract=c, reason="Cancelled in the admin.")
            is not None
            for c in queryset
        )
        self.message_user(request, f"{done} contracts cancelled.", messages.SUCCESS if done else messages.WARNING)


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Open and past term end")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_RENEWAL_STATUSES, term_end__lt=timezone.localdate())
        return queryset


class MilestoneFilter(admin.SimpleListFilter):
    title = "milestone due"
    parameter_name = "milestone"

    def lookups(self, request, model_admin):
        return [(str(m), "Term end" if m == 0 else f"T-{m}") for m in MILESTONES]

    def queryset(self, request, queryset):
        if self.value() and self.value().lstrip("-").isdigit():
            return queryset.filter(due_milestone=int(self.value()))
        return queryset


class ReminderInline(ScopedInline):
    model = RenewalReminder
    extra = 0
    fields = ["milestone", "recipient", "side", "sent_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Renewal)
class RenewalAdmin(ScopedAdmin):
    list_display = [
        "number",
        "customer",
        "partner",
        "owner_side",
        "status",
        "term_end",
        "parent_may_pursue_from",
        "expected_value",
        "due_milestone",
        "reminded_milestone",
    ]
    list_filter = ["owner_side", MilestoneFilter, OverdueFilter, "status", "partner"]
    search_fields = ["customer__legal_name", "partner__name"]
    list_select_related = ["customer", "partner"]
    inlines = [ReminderInline]
    readonly_fields = [f.name for f in Renewal._meta.fields]
    actions = ["pursue_renewals"]

    def has_add_permission(self, request):
        return False  # the periodic scan opens renewals

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Pursue the selected renewals (either-model, window closed)")
    def pursue_renewals(self, request, queryset):
        done = sum(
            self.run_service(request, services.renewal_pursue, renewal=r) is not None
            for r in queryset.filter(status__in=OPEN_RENEWAL_STATUSES)
        )
        self.message_user(request, f"{done} renewals pursued.", messages.SUCCESS if done else messages.WARNING)


@admin.register(TimingRule)
class TimingRuleAdmin(ScopedAdmin):
    """Timing rules are channel configuration kept by the parent's admins and sales (audited)."""

    list_display = ["name", "partner", "wait_days_after_window", "not_within_days_of_partner_activity", "active"]
    list_filter = ["active"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        partner_services.config_save(
            user=request.user, obj=obj, changed_fields=form.changed_data, roles=(ParentRole.SALES,)
        )

    def delete_model(self, request, obj):
        partner_services.config_delete(user=request.user, obj=obj, roles=(ParentRole.SALES,))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            partner_services.config_delete(user=request.user, obj=obj, roles=(ParentRole.SALES,))
