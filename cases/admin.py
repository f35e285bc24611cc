"""The parent's admin for customer service: queues and their agents, routing rules, SLA policies
and business calendars (parent configuration), and cases with filters and bulk assignment."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError

from partners.access import actor_of
from partners.admin import DATE_FILTER, ScopedAdmin

from . import services
from .models import (
    BusinessCalendar,
    Case,
    CaseHandover,
    CaseQueue,
    QueueAgent,
    RoutingRule,
    SlaPolicy,
)


class ConfigSavesThroughService:
    """Saves and deletes go through services.config_save/config_delete (rights and audit)."""

    def save_model(self, request, obj, form, change):
        self.run_service(request, services.config_save, obj=obj, changed_fields=form.changed_data)

    def delete_model(self, request, obj):
        self.run_service(request, services.config_delete, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self.run_service(request, services.config_delete, obj=obj)
        for obj in instances:
            self.run_service(request, services.config_save, obj=obj)

    def run_service(self, request, func, **kwargs):
        try:
            return func(user=request.user, **kwargs)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            return None

    # Others (channel managers, fraud analysts) may look, not change.
    def has_add_permission(self, request, *args):
        return services.can_configure(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return services.can_configure(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return services.can_configure(request.user) and super().has_delete_permission(request, obj)


class ParentConfigAdmin(ConfigSavesThroughService, admin.ModelAdmin):
    """Channel-wide configuration: parent staff with the model permissions (Support, Admin)."""

    def has_module_permission(self, request):
        return actor_of(request.user).is_parent and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return actor_of(request.user).is_parent and super().has_view_permission(request, obj)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ParentConfigAdmin):
    list_display = ["name", "time_zone", "weekdays", "opens_at", "closes_at"]
    search_fields = ["name"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ParentConfigAdmin):
    list_display = ["name", "priority", "tier", "first_response_minutes", "resolution_minutes", "warn_before_minutes"]
    list_filter = ["priority", "tier"]
    list_select_related = ["tier"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(ParentConfigAdmin):
    list_display = [
        "order",
        "name",
        "is_active",
        "category",
        "priority",
        "customer_country",
        "product_line",
        "service_model",
        "target_queue",
        "target_partner_queue",
        "round_robin",
    ]
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["is_active", "category", "priority", "service_model"]
    list_select_related = ["product_line", "target_queue"]
    search_fields = ["name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "target_queue":
            kwargs["queryset"] = CaseQueue.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class QueueAgentInline(admin.TabularInline):
    model = QueueAgent
    extra = 0
    fields = ["user", "is_available", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]
    raw_id_fields = ["user"]


@admin.register(CaseQueue)
class CaseQueueAdmin(ConfigSavesThroughService, ScopedAdmin):
    list_display = ["name", "kind", "partner", "calendar", "supervisor_queue", "is_default"]
    list_filter = ["kind", "is_default"]
    search_fields = ["name", "partner__name"]
    list_select_related = ["partner", "calendar", "supervisor_queue"]
    inlines = [QueueAgentInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "supervisor_queue":
            kwargs["queryset"] = CaseQueue.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class HandoverInline(admin.TabularInline):
    model = CaseHandover
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "from_party", "from_queue", "to_party", "to_queue", "by", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return CaseHandover.objects.for_user(request.user).select_related("from_queue", "to_queue", "by")


class BulkAssignForm(ActionForm):
    assignee = forms.ModelChoiceField(
        queryset=services.parent_agents().none(), required=False, help_text="For “Assign to the chosen agent”."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = services.parent_agents().order_by("username")


class ScopedQueueFilter(admin.RelatedFieldListFilter):
    """The queue filter lists only the queues the admin user sees."""

    def field_choices(self, field, request, model_admin):
        return [(q.pk, str(q)) for q in CaseQueue.objects.for_user(request.user).order_by("name")]


class BreachedFilter(admin.SimpleListFilter):
    title = "SLA breached"
    parameter_name = "breached"

    def lookups(self, request, model_admin):
        return [("yes", "Breached"), ("no", "Not breached")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(sla_breached=True)
        if self.value() == "no":
            return queryset.filter(sla_breached=False)
        return queryset


@admin.register(Case)
class CaseAdmin(ScopedAdmin):
    list_display = [
        "id",
        "subject",
        "partner",
        "customer",
        "status",
        "priority",
        "category",
        "owner_party",
        "queue",
        "assignee",
        "resolution_due_at",
        "sla_breached",
    ]
    list_filter = [
        ("queue", ScopedQueueFilter),
        "status",
        "priority",
        BreachedFilter,
        "owner_party",
        "service_model",
        "category",
        DATE_FILTER,
    ]
    search_fields = ["subject", "lead_reference", "customer__legal_name", "partner__name"]
    list_select_related = ["partner", "customer", "queue", "assignee"]
    action_form = BulkAssignForm
    actions = ["assign_to_me", "assign_to_chosen"]
    inlines = [HandoverInline]
    readonly_fields = [
        "partner",
        "customer",
        "lead_reference",
        "origin",
        "service_model",
        "owner_party",
        "status",
        "queue",
        "assignee",
        "created_by",
        "close_reason",
        "resolution",
        "sla_policy",
        "sla_cycle",
        "first_response_due_at",
        "first_response_at",
        "resolution_due_at",
        "sla_paused_at",
        "sla_remaining_seconds",
        "sla_breached",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
    ]
    fields = ["subject", "description", "priority", "category", "product_line", *readonly_fields]

    def has_add_permission(self, request):
        return False  # Cases are opened in the portal or through the API (routing, SLA targets).

    def save_model(self, request, obj, form, change):
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in services.CASE_EDITABLE}
        if changed:
            self.run_service(request, services.case_update, case=obj, **changed)

    def _bulk_assign(self, request, queryset, assignee):
        done = 0
        for case in queryset:
            if self.run_service(request, services.case_assign, case=case, assignee=assignee) is not None:
                done += 1
        if done:
            messages.success(request, f"Assigned {done} case(s) to {assignee.username}.")

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        self._bulk_assign(request, queryset, request.user)

    @admin.action(description="Assign to the chosen agent")
    def assign_to_chosen(self, request, queryset):
        form = BulkAssignForm(request.POST)
        assignee = form.fields["assignee"].queryset.filter(pk=request.POST.get("assignee") or 0).first()
        if assignee is None:
            messages.error(request, "Choose an agent first.")
            return
        self._bulk_assign(request, queryset, assignee)
