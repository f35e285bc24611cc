"""The parent's admin for analytics: fraud rules (enabled, thresholds, action) and tier
requirements as audited configuration; the alert queue with dismiss and confirm, holds with
release, security events read-only. Actions call services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from partners import services as partner_services
from partners.access import ParentRole
from partners.admin import ScopedAdmin

from . import services
from .models import FraudAlert, FraudRule, PayoutHold, SecurityEvent, TierRequirement


class AnalyticsConfigAdmin(admin.ModelAdmin):
    """Saved through partners' audited configuration service: parent admins and fraud analysts."""

    roles = (ParentRole.FRAUD_ANALYST,)

    def save_model(self, request, obj, form, change):
        partner_services.config_save(user=request.user, obj=obj, changed_fields=form.changed_data, roles=self.roles)

    def delete_model(self, request, obj):
        partner_services.config_delete(user=request.user, obj=obj, roles=self.roles)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            partner_services.config_delete(user=request.user, obj=obj, roles=self.roles)


@admin.register(FraudRule)
class FraudRuleAdmin(AnalyticsConfigAdmin):
    list_display = ["name", "code", "enabled", "action", "updated_at"]
    list_filter = ["enabled", "action"]
    readonly_fields = ["code", "description"]
    fields = ["code", "name", "description", "enabled", "action", "thresholds"]

    def has_add_permission(self, request):
        return False  # One row per rule in the code (analytics/rules.py), created by the engine.


@admin.register(TierRequirement)
class TierRequirementAdmin(AnalyticsConfigAdmin):
    roles = (ParentRole.CHANNEL_MANAGER,)
    list_display = ["tier", "min_win_rate", "max_accept_hours", "min_revenue"]


def _run(modeladmin, request, func, objects, done, **kwargs):
    count = 0
    for obj in objects:
        try:
            func(user=request.user, **{modeladmin.service_arg: obj}, **kwargs)
            count += 1
        except (PermissionDenied, ValidationError) as exc:
            modeladmin.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)


class HoldInline(admin.TabularInline):
    model = PayoutHold
    extra = 0
    can_delete = False
    fields = ["key", "reason", "created_at", "released_at", "released_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FraudAlert)
class FraudAlertAdmin(ScopedAdmin):
    service_arg = "alert"
    list_display = ["id", "rule", "partner", "subject_repr", "score", "status", "created_at"]
    list_filter = ["status", "rule", "partner"]
    search_fields = ["subject_repr", "summary", "subject_key"]
    list_select_related = ["rule", "partner"]
    readonly_fields = [
        "rule",
        "partner",
        "subject_key",
        "subject_repr",
        "score",
        "summary",
        "evidence",
        "hold_keys",
        "status",
        "triaged_by",
        "triaged_at",
        "triage_reason",
        "created_at",
        "last_seen_at",
    ]
    inlines = [HoldInline]
    actions = ["dismiss", "confirm", "confirm_and_suspend"]

    def has_add_permission(self, request):
        return False  # Raised by the rules.

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        return  # Moved by its actions only.

    @admin.action(description="Dismiss the selected alerts (not fraud)")
    def dismiss(self, request, queryset):
        _run(self, request, services.fraud_alert_dismiss, queryset, "dismissed", reason="Dismissed in admin.")

    @admin.action(description="Confirm the selected alerts and hold their payouts")
    def confirm(self, request, queryset):
        _run(self, request, services.fraud_alert_confirm, queryset, "confirmed", reason="Confirmed in admin.")

    @admin.action(description="Confirm, hold payouts and suspend the partner")
    def confirm_and_suspend(self, request, queryset):
        _run(
            self,
            request,
            services.fraud_alert_confirm,
            queryset,
            "confirmed",
            reason="Confirmed in admin.",
            suspend_partner=True,
        )


@admin.register(PayoutHold)
class PayoutHoldAdmin(ScopedAdmin):
    service_arg = "hold"
    list_display = ["id", "partner", "key", "reason", "created_at", "released_at"]
    list_filter = ["partner"]
    readonly_fields = ["partner", "alert", "key", "reason", "created_at", "released_at", "released_by"]
    actions = ["release"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        return

    @admin.action(description="Release the selected holds")
    def release(self, request, queryset):
        _run(self, request, services.payout_hold_release, queryset, "released", reason="Released in admin.")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ScopedAdmin):
    list_display = ["created_at", "kind", "user", "partner", "ip_address", "path", "rows"]
    list_filter = ["kind"]
    search_fields = ["user__username", "path", "ip_address"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
