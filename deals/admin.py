"""The parent's admin for deals: registrations with their conflicts, leads with routing, routing
rules, opportunities, and the commission ledger with finance actions. Reads go through the access
policy; saves and actions call services."""

from django.contrib import admin, messages

from partners import ledger
from partners.access import actor_of
from partners.admin import DATE_FILTER, ScopedAdmin, ScopedInline, country_filter
from partners.models import Commission

from . import services
from .models import (
    DealRegistration,
    DealRegistrationLine,
    Lead,
    LeadOffer,
    Opportunity,
    RegistrationConflict,
    RegistrationExtension,
    RoutingRule,
)


class ReadOnlyInline(ScopedInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ConflictInline(ReadOnlyInline):
    model = RegistrationConflict
    fk_name = "registration"
    fields = [
        "kind",
        "reasons",
        "detail",
        "conflicting_registration",
        "conflicting_opportunity",
        "conflicting_customer",
    ]
    readonly_fields = fields
    verbose_name_plural = "Conflicts found at submission (why each matched)"


class ConflictedByInline(ReadOnlyInline):
    model = RegistrationConflict
    fk_name = "conflicting_registration"
    fields = ["registration", "kind", "reasons", "detail"]
    readonly_fields = fields
    verbose_name_plural = "Later registrations that conflict with this one"


class LineInline(ReadOnlyInline):
    model = DealRegistrationLine
    fields = ["product", "quantity"]
    readonly_fields = fields
    verbose_name, verbose_name_plural = "product", "Products registered"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class ExtensionInline(ReadOnlyInline):
    model = RegistrationExtension
    fields = ["sequence", "days", "reason", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    readonly_fields = fields


class ActionsOnlyAdmin(ScopedAdmin):
    """Every field is read-only: the record moves through its actions (services), never a save."""

    def save_model(self, request, obj, form, change):
        if change:
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False


def _bulk(modeladmin, request, queryset, func, done, **kwargs):
    count = 0
    for obj in queryset:
        if modeladmin.run_service(request, func, **{modeladmin.service_arg: obj}, **kwargs) is not None:
            count += 1
    if count:
        modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)


@admin.register(DealRegistration)
class DealRegistrationAdmin(ActionsOnlyAdmin):
    service_arg = "registration"
    list_display = [
        "id",
        "customer_name",
        "partner",
        "status",
        "has_conflict",
        "value",
        "submitted_at",
    ]
    # No date_hierarchy (a DISTINCT over every row's date): a date filter with fixed choices.
    list_filter = ["status", "has_conflict", country_filter("customer_country"), "partner", DATE_FILTER]
    # Trigram-indexed on PostgreSQL (migration 0002); normalized_name is derived from customer_name.
    search_fields = ["customer_name", "customer_domain"]
    list_select_related = ["partner"]
    inlines = [ConflictInline, ConflictedByInline, LineInline, ExtensionInline]

    @admin.display(description="Estimated value", ordering="estimated_value")
    def value(self, obj):
        from partners.presentation import money

        return money(obj.estimated_value, obj.currency)

    actions = ["approve", "approve_override", "reject", "expire_now"]
    readonly_fields = [
        "partner",
        "created_by",
        "status",
        "customer",
        "customer_name",
        "customer_domain",
        "customer_country",
        "normalized_name",
        "domain_key",
        "estimated_value",
        "currency",
        "expected_close_date",
        "notes",
        "has_conflict",
        "submitted_at",
        "first_approved_by",
        "first_approved_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "approved_at",
        "protected_until",
        "expiry_warned_at",
        "created_at",
    ]
    exclude = ["updated_at"]

    def has_add_permission(self, request):
        return False  # Partners register deals in the portal or through the API.

    @admin.action(description="Approve the selected registrations (first in wins; conflicts refuse)")
    def approve(self, request, queryset):
        approved = waiting = 0
        for registration in queryset.order_by("submitted_at", "pk"):
            result = self.run_service(request, services.deal_registration_approve, registration=registration)
            if result is not None:
                approved += result.status == "approved"
                waiting += result.status == "submitted"
        if approved:
            self.message_user(request, f"{approved} approved.", messages.SUCCESS)
        if waiting:
            self.message_user(request, f"{waiting} have a first approval and need a second approver.", messages.WARNING)

    @admin.action(description="Approve overriding their conflicts (asks for a reason)")
    def approve_override(self, request, queryset):
        """A conflict with an existing account or the parent's direct pipeline is approved only on an
        explicit override with a reason (audited): the action asks for it first."""
        from django.template.response import TemplateResponse

        reason = (request.POST.get("override_reason") or "").strip()
        if request.POST.get("confirm") != "yes" or not reason:
            return TemplateResponse(
                request,
                "admin/deals/approve_override.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Approve overriding conflicts",
                    "registrations": queryset,
                    "action": "approve_override",
                    "missing_reason": request.POST.get("confirm") == "yes",
                    "opts": self.model._meta,
                },
            )
        approved = 0
        for registration in queryset.order_by("submitted_at", "pk"):
            result = self.run_service(
                request,
                services.deal_registration_approve,
                registration=registration,
                override_conflicts=True,
                reason=reason,
            )
            approved += result is not None and result.status == "approved"
        if approved:
            self.message_user(request, f"{approved} approved over their conflicts.", messages.SUCCESS)
        return None

    @admin.action(description="Reject the selected registrations")
    def reject(self, request, queryset):
        _bulk(
            self,
            request,
            queryset,
            services.deal_registration_reject,
            "rejected",
            reason="Rejected by the channel team (bulk action in admin).",
        )

    @admin.action(description="Expire those past their protection window now")
    def expire_now(self, request, queryset):
        count = sum(
            services.deal_registration_expire(registration_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{count} expired.")


class OfferInline(ReadOnlyInline):
    model = LeadOffer
    fields = ["partner", "status", "offered_at", "deadline", "offered_by", "rule", "responded_at", "decline_reason"]
    readonly_fields = fields


@admin.register(Lead)
class LeadAdmin(ScopedAdmin):
    service_arg = "lead"
    list_display = ["id", "company_name", "country", "source", "status", "partner", "product_interest", "created_at"]
    list_filter = ["status", "source", country_filter("country"), "product_interest", DATE_FILTER]
    search_fields = ["company_name", "company_domain", "contact_email"]
    list_select_related = ["partner", "product_interest"]
    inlines = [OfferInline]
    actions = ["route", "take"]
    readonly_fields = ["partner", "status", "owner", "created_by", "accepted_at", "created_at"]
    exclude = ["updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Leads change through their actions (route, forward, accept, decline), each audited.
            return [f.name for f in self.model._meta.fields if f.name != "id"]
        return self.readonly_fields

    @admin.action(description="Route the selected leads by the routing rules")
    def route(self, request, queryset):
        _bulk(self, request, queryset, services.lead_route, "routed")

    @admin.action(description="Take the selected queued leads for direct sales")
    def take(self, request, queryset):
        _bulk(self, request, queryset, services.lead_take, "taken for direct sales")

    def save_model(self, request, obj, form, change):
        if change:
            return  # Every field is read-only once the lead exists.
        fields = {name: form.cleaned_data.get(name) for name in services.LEAD_FIELDS}
        fields = {k: v for k, v in fields.items() if v not in (None, "")}
        lead = self.run_service(
            request,
            services.lead_create,
            company_name=fields.pop("company_name"),
            country=fields.pop("country"),
            source=form.cleaned_data.get("source"),
            **fields,
        )
        if lead is not None:
            obj.pk = lead.pk


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Routing rules route every partner's leads: only parent staff who see the whole channel may
    see or change them (a channel manager with some partners would see the others named here)."""

    def has_module_permission(self, request):
        return actor_of(request.user).sees_all_partners and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return actor_of(request.user).sees_all_partners and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return actor_of(request.user).sees_all_partners and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return actor_of(request.user).sees_all_partners and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return actor_of(request.user).sees_all_partners and super().has_delete_permission(request, obj)

    list_display = [
        "priority",
        "name",
        "is_active",
        "countries",
        "source",
        "product_line",
        "require_territory",
        "require_expertise",
        "weight_by_tier",
        "min_tier",
    ]
    list_display_links = ["name"]
    list_editable = ["priority", "is_active"]
    list_filter = ["is_active", "require_territory", "require_expertise", "source"]
    search_fields = ["name", "countries"]
    list_select_related = ["product_line", "min_tier"]
    filter_horizontal = ["partners"]


@admin.register(Opportunity)
class OpportunityAdmin(ActionsOnlyAdmin):
    list_display = ["id", "name", "partner", "flow", "managed_by", "stage", "amount", "expected_close_date", "owner"]
    list_filter = ["stage", "flow", "managed_by", "partner"]
    search_fields = ["name", "customer__legal_name"]
    list_select_related = ["partner", "owner"]
    readonly_fields = [
        "partner",
        "flow",
        "managed_by",
        "customer",
        "stage",
        "amount",
        "currency",
        "probability",
        "expected_close_date",
        "owner",
        "registered_by",
        "registration",
        "lead",
        "order_placed_at",
        "closed_at",
        "lost_reason",
        "created_at",
    ]
    exclude = ["updated_at"]

    def has_add_permission(self, request):
        return False  # Created by registrations, leads, or in the portal/API (services set the flow).

    service_arg = "opportunity"
    actions = ["verify_win"]

    @admin.action(description="Verify the selected wins (no order): accrue their commission")
    def verify_win(self, request, queryset):
        _bulk(
            self, request, queryset, services.opportunity_verify_win, "verified", reason="Verified by finance in admin."
        )


@admin.register(Commission)
class CommissionAdmin(ActionsOnlyAdmin):
    service_arg = "commission"
    list_display = ["id", "partner", "source", "source_ref", "amount", "currency", "status", "accrued_at", "paid_at"]
    list_filter = ["status", "source", "partner", ("accrued_at", admin.DateFieldListFilter)]
    search_fields = ["source_ref", "description", "payment_reference"]
    list_select_related = ["partner"]
    actions = ["approve", "mark_paid", "reverse"]
    readonly_fields = [
        "partner",
        "source",
        "source_ref",
        "customer",
        "description",
        "base_amount",
        "rate",
        "amount",
        "currency",
        "status",
        "accrued_at",
        "approved_at",
        "approved_by",
        "paid_at",
        "payment_reference",
        "reversal_reason",
    ]

    def has_add_permission(self, request):
        return False  # Accrued by business events, never typed in.

    @admin.action(description="Approve the selected commissions")
    def approve(self, request, queryset):
        _bulk(self, request, queryset, ledger.commission_approve, "approved")

    @admin.action(description="Mark the selected commissions paid")
    def mark_paid(self, request, queryset):
        _bulk(self, request, queryset, ledger.commission_mark_paid, "marked paid", reference="admin bulk payment")

    @admin.action(description="Reverse the selected commissions")
    def reverse(self, request, queryset):
        _bulk(self, request, queryset, ledger.commission_reverse, "reversed", reason="Reversed by finance in admin.")
