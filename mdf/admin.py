"""The parent's admin for marketing funds: programs (with fixed amounts per tier and bulk allocation
by tier), allocations, the request and claim review with their decisions and payment, campaigns and
the collateral library. Every save and action calls a service (rights, locks, audit)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from partners import services as partner_services
from partners.access import ParentRole, actor_of
from partners.admin import ScopedAdmin
from partners.agreement import MarketingModel

from . import services
from .models import (
    Asset,
    Campaign,
    ClaimFile,
    FundAllocation,
    FundClaim,
    FundProgram,
    FundRequest,
    TierFund,
)

FUND_ROLES = (ParentRole.MARKETING, ParentRole.FINANCE)


class DecisionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="Reason (reject, return, partial approval).")
    payment_reference = forms.CharField(required=False, help_text="For “Mark paid”.")


def _run(modeladmin, request, queryset, func, **kwargs):
    done = 0
    for obj in queryset:
        if modeladmin.run_service(request, func, **{modeladmin.subject: obj}, **kwargs) is not None:
            done += 1
    if done:
        messages.success(request, f"{done} done.")


class TierFundInline(admin.TabularInline):
    model = TierFund
    extra = 0


@admin.register(FundProgram)
class FundProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "period_kind", "starts_on", "ends_on", "budget", "accrual_percent", "grace_days"]
    list_filter = ["period_kind"]
    search_fields = ["name"]
    inlines = [TierFundInline]
    actions = ["allocate_by_tier"]

    def has_module_permission(self, request):
        return actor_of(request.user).is_parent and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return actor_of(request.user).is_parent and super().has_view_permission(request, obj)

    def save_model(self, request, obj, form, change):
        partner_services.config_save(user=request.user, obj=obj, changed_fields=form.changed_data, roles=FUND_ROLES)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            partner_services.config_delete(user=request.user, obj=obj, roles=FUND_ROLES)
        for obj in instances:
            partner_services.config_save(user=request.user, obj=obj, roles=FUND_ROLES)

    @admin.action(description="Allocate to every partner of a tier with a fixed amount")
    def allocate_by_tier(self, request, queryset):
        for program in queryset:
            try:
                created = services.fund_allocations_by_tier(user=request.user, program=program)
                messages.success(request, f"{program}: {len(created)} allocations.")
            except (ValidationError, PermissionError) as exc:
                messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            except Exception as exc:  # PermissionDenied
                messages.error(request, str(exc))


@admin.register(FundAllocation)
class FundAllocationAdmin(ScopedAdmin):
    subject = "allocation"
    list_display = ["partner", "program", "method", "status", "amount", "committed", "paid", "expired", "balance"]
    list_filter = ["status", "method", "program"]
    search_fields = ["partner__name"]
    list_select_related = ["partner", "program"]
    readonly_fields = ["committed", "paid", "expired", "accrual_basis", "approved_by", "approved_at"]
    fields = ["program", "partner", "method", "amount", *readonly_fields]
    actions = ["approve"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "program", "partner", "method"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            self.run_service(request, services.fund_allocation_adjust, allocation=obj, amount=obj.amount)
        else:
            created = self.run_service(
                request, services.fund_allocation_create, program=obj.program, partner=obj.partner,
                amount=obj.amount, method=obj.method,
            )  # fmt: skip
            if created is not None:
                obj.pk = created.pk

    @admin.action(description="Approve proposed (accrued) allocations")
    def approve(self, request, queryset):
        _run(self, request, queryset, services.fund_allocation_approve)


@admin.register(FundRequest)
class FundRequestAdmin(ScopedAdmin):
    subject = "fund_request"
    action_form = DecisionForm
    list_display = ["reference", "partner", "title", "activity_type", "requested_amount", "approved_amount", "status"]
    list_filter = ["status", "activity_type"]
    search_fields = ["title", "partner__name"]
    list_select_related = ["partner"]
    readonly_fields = [f.name for f in FundRequest._meta.fields] + ["product_lines"]
    actions = ["approve", "reject", "return_"]

    def has_add_permission(self, request):
        return False  # partners request funds in the portal or through the API

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve in full")
    def approve(self, request, queryset):
        _run(self, request, queryset, services.fund_request_approve, reason=request.POST.get("reason", ""))

    @admin.action(description="Reject (with the reason)")
    def reject(self, request, queryset):
        _run(self, request, queryset, services.fund_request_reject, reason=request.POST.get("reason", ""))

    @admin.action(description="Return for changes (with the reason)")
    def return_(self, request, queryset):
        _run(self, request, queryset, services.fund_request_return, reason=request.POST.get("reason", ""))


class ClaimFileInline(admin.TabularInline):
    model = ClaimFile
    extra = 0
    can_delete = False
    fields = ["link", "kind", "size", "sha256", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return ClaimFile.objects.for_user(request.user)

    @admin.display(description="File")
    def link(self, obj):
        url = reverse("mdf:claim-file-download", args=[obj.claim_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.filename)


@admin.register(FundClaim)
class FundClaimAdmin(ScopedAdmin):
    subject = "claim"
    action_form = DecisionForm
    list_display = ["reference", "partner", "vendor", "invoice_number", "amount", "reimbursable_amount", "status"]
    list_filter = ["status"]
    search_fields = ["vendor", "invoice_number", "partner__name"]
    list_select_related = ["partner"]
    readonly_fields = [f.name for f in FundClaim._meta.fields]
    inlines = [ClaimFileInline]
    actions = ["approve", "reject", "return_", "mark_paid"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve in full")
    def approve(self, request, queryset):
        _run(self, request, queryset, services.fund_claim_approve)

    @admin.action(description="Reject (with the reason)")
    def reject(self, request, queryset):
        _run(self, request, queryset, services.fund_claim_reject, reason=request.POST.get("reason", ""))

    @admin.action(description="Return for changes (with the reason)")
    def return_(self, request, queryset):
        _run(self, request, queryset, services.fund_claim_return, reason=request.POST.get("reason", ""))

    @admin.action(description="Mark paid (with the payment reference)")
    def mark_paid(self, request, queryset):
        _run(
            self, request, queryset, services.fund_claim_mark_paid,
            payment_reference=request.POST.get("payment_reference", ""),
        )  # fmt: skip


@admin.register(Campaign)
class CampaignAdmin(ScopedAdmin):
    list_display = ["name", "owner_party", "partner", "lead_handling", "starts_on", "ends_on", "budget"]
    list_filter = ["owner_party", "lead_handling"]
    search_fields = ["name"]
    list_select_related = ["partner"]
    fields = ["name", "lead_handling", "description", "countries", "product_lines", "starts_on", "ends_on", "budget"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = self.run_service(
            request, services.campaign_create, **{name: getattr(obj, name) for name in services.CAMPAIGN_FIELDS},
            product_lines=list(form.cleaned_data.get("product_lines") or []),
        )  # fmt: skip
        if created is not None:
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass  # product lines were set by the service


class AssetForm(forms.ModelForm):
    body_html = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        help_text="Placeholders: {partner_name} {partner_logo} {partner_website} {contact_name} {contact_email} "
        "{provider_name}. A change publishes a new version.",
    )
    entitled_models = forms.MultipleChoiceField(
        choices=MarketingModel.choices, required=False, help_text="Empty: every marketing model."
    )
    entitled_countries = forms.CharField(required=False, help_text="ISO codes separated by commas; empty: all.")

    class Meta:
        model = Asset
        fields = ["title", "kind", "description", "is_published", "co_branded", "white_label_safe", "min_tier"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            version = self.instance.current_version
            self.fields["body_html"].initial = version.body_html if version else ""
            self.fields["entitled_models"].initial = Asset.unpack(self.instance.marketing_models)
            self.fields["entitled_countries"].initial = ",".join(Asset.unpack(self.instance.countries))
        else:
            self.fields["body_html"].required = True


@admin.register(Asset)
class AssetAdmin(ScopedAdmin):
    form = AssetForm
    list_display = ["title", "kind", "partner", "is_published", "co_branded", "white_label_safe", "current_version"]
    list_filter = ["kind", "is_published", "white_label_safe"]
    search_fields = ["title"]
    list_select_related = ["partner", "current_version"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            obj.marketing_models = Asset.pack(data["entitled_models"])
            obj.countries = Asset.pack(c.strip().upper() for c in data["entitled_countries"].split(","))
            partner_services.config_save(
                user=request.user, obj=obj, changed_fields=form.changed_data, roles=(ParentRole.MARKETING,)
            )
            if "body_html" in form.changed_data and data["body_html"].strip():
                self.run_service(request, services.asset_version_add, asset=obj, body_html=data["body_html"])
            return
        created = self.run_service(
            request,
            services.asset_create,
            body_html=data["body_html"],
            marketing_models=data["entitled_models"],
            countries=[c.strip() for c in data["entitled_countries"].split(",") if c.strip()],
            **{name: data[name] for name in services.ASSET_FIELDS if name in data},
        )
        if created is not None:
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass
