"""The parent's admin. Every list reads through the access policy; saves and actions call services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

from prm.api.pagination import BoundedCountPaginator

from . import services
from .access import ParentRole, actor_of
from .agreement import DIMENSIONS
from .models import (
    Agreement,
    AuditEvent,
    Customer,
    CustomerClaim,
    CustomerRelationship,
    Membership,
    Partner,
    PartnerStatus,
    PartnerUserObjectPermission,
    ProductLine,
    ProgramTier,
    Territory,
)

User = get_user_model()


def _has_scope(model):
    return callable(getattr(getattr(model, "objects", None), "for_user", None))


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A filter on a tenant relation: its choices are the related rows the caller can see, read from
    the related (small) table, never a DISTINCT over the (large) filtered one."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model.objects.for_user(request.user)
        ordering = self.field_admin_ordering(field, request, model_admin) or related.model._meta.ordering or ["pk"]
        return [(obj.pk, str(obj)) for obj in related.order_by(*ordering)]


def country_filter(field_name, title="country"):
    """A country filter with fixed choices (the countries partners cover), where the default filter
    would run a DISTINCT over every row of a large table on each changelist."""

    class CountryFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            countries = set(Territory.objects.for_user(request.user).values_list("country", flat=True))
            countries |= set(Partner.objects.for_user(request.user).values_list("country", flat=True))
            return [(c, c) for c in sorted(countries)]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field_name: value.upper()}) if value else queryset

    CountryFilter.title = title
    return CountryFilter


DATE_FILTER = ("created_at", admin.DateFieldListFilter)


class ScopedAdmin(admin.ModelAdmin):
    """Reads through `Model.objects.for_user`; foreign-key choices are scoped the same way.

    Fast at millions of rows: no second full COUNT (`show_full_result_count`), counts exact only
    when small (`BoundedCountPaginator`), relation filters read the related table (the changelist
    itself appends the primary key to the order)."""

    show_full_result_count = False
    paginator = BoundedCountPaginator

    def get_queryset(self, request):
        queryset = self.model.objects.for_user(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset

    def get_list_filter(self, request):
        # A filter on a tenant relation lists only the related rows the caller can see, never
        # every partner's, and without a DISTINCT over the filtered table (ScopedRelatedFilter).
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation and _has_scope(field.related_model):
                    entry = (entry, ScopedRelatedFilter)
            filters.append(entry)
        return filters

    def get_search_results(self, request, queryset, search_term):
        """A search field across a foreign key (`customer__legal_name`) becomes `customer_id IN
        (matching customers)`: the related table's own index answers it, where Django's OR across a
        join makes PostgreSQL scan every row of the big table."""
        fields = list(self.get_search_fields(request) or [])
        plain = all(f[:1] not in "^=@" for f in fields)
        if not search_term or not plain or not any("__" in f for f in fields):
            return super().get_search_results(request, queryset, search_term)
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            condition = Q()
            for name in fields:
                relation, _, rest = name.partition("__")
                field = self.model._meta.get_field(relation) if rest else None
                if field is not None and field.many_to_one:
                    related = field.related_model
                    manager = related._default_manager
                    if _has_scope(related):
                        manager = related.objects.for_user(request.user)
                    condition |= Q(**{f"{relation}__in": manager.filter(**{f"{rest}__icontains": bit}).values("pk")})
                else:
                    condition |= Q(**{f"{name}__icontains": bit})
            queryset = queryset.filter(condition)
        return queryset, False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if _has_scope(db_field.related_model):
            kwargs.setdefault("queryset", db_field.related_model.objects.for_user(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if _has_scope(db_field.related_model):
            kwargs.setdefault("queryset", db_field.related_model.objects.for_user(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def run_service(self, request, func, **kwargs):
        """Call a service for an admin action, turning refusals into messages."""
        try:
            return func(user=request.user, **kwargs)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            return None


class ScopedInline(admin.TabularInline):
    def get_queryset(self, request):
        return self.model.objects.for_user(request.user)


class AgreementInline(admin.StackedInline):
    model = Agreement
    can_delete = False
    fields = DIMENSIONS
    classes = ["collapse"]
    verbose_name_plural = "Agreement (each dimension overrides the business model's preset; changes are audited)"

    def has_add_permission(self, request, obj=None):
        return False


class TerritoryInline(ScopedInline):
    model = Territory
    extra = 0
    classes = ["collapse"]


class MembershipInline(ScopedInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "is_active", "invitation_sent_at"]
    readonly_fields = ["user", "invitation_sent_at"]
    classes = ["collapse"]

    def has_add_permission(self, request, obj=None):
        return False  # People join by invitation (portal team page or API), which sends the email.


class PartnerAdminForm(forms.ModelForm):
    managers = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_staff=True, groups__name=ParentRole.CHANNEL_MANAGER).distinct(),
        required=False,
        widget=admin.widgets.FilteredSelectMultiple("channel managers", is_stacked=False),
        help_text="Channel managers who look after this partner (object permission).",
    )

    class Meta:
        model = Partner
        fields = [
            "name",
            "slug",
            "tier",
            "business_model",
            "country",
            "website",
            "credit_limit",
            "expertise",
            "display_name",
            "logo",
            "brand_color",
        ]


@admin.register(Partner)
class PartnerAdmin(ScopedAdmin):
    form = PartnerAdminForm
    list_display = ["name", "slug", "status", "tier", "business_model", "country", "activated_at"]
    list_filter = ["status", "tier", "business_model", "country"]
    search_fields = ["name", "slug", "display_name"]
    list_select_related = ["tier"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "activated_at", "created_at", "updated_at"]
    filter_horizontal = ["expertise"]
    inlines = [AgreementInline, TerritoryInline, MembershipInline]
    actions = ["activate", "suspend", "start_onboarding", "terminate"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "tier", "business_model", "country", "website", "credit_limit"]}),
        ("Expertise and managers", {"fields": ["expertise", "managers"], "classes": ["collapse"]}),
        ("Branding (white label)", {"fields": ["display_name", "logo", "brand_color"], "classes": ["collapse"]}),
        ("Dates", {"fields": ["activated_at", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("business_model")  # Changing the model re-applies its preset: a deliberate act.
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if actor_of(request.user).is_parent_admin:
            return fieldsets
        # Only the parent's admins assign channel managers.
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "managers"]}) for name, opts in fieldsets]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "managers" in form.base_fields:
            form.base_fields["managers"].initial = list(
                PartnerUserObjectPermission.objects.filter(
                    content_object=obj, permission__codename="manage_partner"
                ).values_list("user_id", flat=True)
            )
        return form

    def has_add_permission(self, request):
        return actor_of(request.user).is_parent_admin

    def has_delete_permission(self, request, obj=None):
        return False  # Partners are terminated, never deleted: their history stays.

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name not in ("managers", "expertise")}
        if not change:
            obj.pk = services.partner_create(
                user=request.user,
                name=fields.pop("name"),
                slug=fields.pop("slug"),
                business_model=fields.pop("business_model"),
                country=fields.pop("country"),
                **fields,
            ).pk
            obj.refresh_from_db()
        elif fields:
            services.partner_update(user=request.user, partner=obj, **fields)
        if "expertise" in form.changed_data:
            services.partner_update(user=request.user, partner=obj, expertise=list(form.cleaned_data["expertise"]))
        if "managers" in form.changed_data:
            wanted = set(form.cleaned_data["managers"])
            current = set(
                User.objects.filter(
                    pk__in=PartnerUserObjectPermission.objects.filter(
                        content_object=obj, permission__codename="manage_partner"
                    ).values("user_id")
                )
            )
            for manager in wanted - current:
                services.partner_manager_grant(user=request.user, partner=obj, manager=manager)
            for manager in current - wanted:
                services.partner_manager_revoke(user=request.user, partner=obj, manager=manager)

    def save_related(self, request, form, formsets, change):
        # expertise and managers went through the services in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        partner = form.instance
        # The services save; the admin's change message still reads these lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is Agreement:
            for inline_form in formset.forms:
                if inline_form.has_changed() and inline_form.instance.pk:
                    changed = {name: inline_form.cleaned_data[name] for name in inline_form.changed_data}
                    services.partner_agreement_update(user=request.user, partner=partner, reason="admin", **changed)
        elif formset.model is Membership:
            for inline_form in formset.forms:
                if inline_form.has_changed() and inline_form.instance.pk:
                    changed = {name: inline_form.cleaned_data[name] for name in inline_form.changed_data}
                    services.membership_update(user=request.user, membership=inline_form.instance, **changed)
        elif formset.model is Territory:
            countries = [
                f.cleaned_data["country"]
                for f in formset.forms
                if f.cleaned_data.get("country") and not f.cleaned_data.get("DELETE")
            ]
            services.partner_update(user=request.user, partner=partner, territories=countries)

    def _transition(self, request, queryset, status):
        done = 0
        for partner in queryset:
            if self.run_service(
                request, services.partner_transition, partner=partner, status=status, reason="admin action"
            ):
                done += 1
        if done:
            messages.success(request, f"{done} partner(s) now {status}.")

    @admin.action(description="Activate the selected partners")
    def activate(self, request, queryset):
        self._transition(request, queryset, PartnerStatus.ACTIVE)

    @admin.action(description="Suspend the selected partners")
    def suspend(self, request, queryset):
        self._transition(request, queryset, PartnerStatus.SUSPENDED)

    @admin.action(description="Start onboarding the selected applicants")
    def start_onboarding(self, request, queryset):
        self._transition(request, queryset, PartnerStatus.ONBOARDING)

    @admin.action(description="Terminate the selected partners")
    def terminate(self, request, queryset):
        self._transition(request, queryset, PartnerStatus.TERMINATED)


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ["user", "partner", "role", "is_active", "invitation_sent_at", "created_at"]
    list_filter = ["role", "is_active", "partner"]
    search_fields = ["user__username", "user__email", "partner__name"]
    list_select_related = ["user", "partner"]
    readonly_fields = ["user", "partner", "invited_by", "invitation_sent_at", "created_at"]
    actions = ["deactivate"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in ("role", "is_active")}
        services.membership_update(user=request.user, membership=obj, **changed)

    @admin.action(description="Deactivate the selected people")
    def deactivate(self, request, queryset):
        for membership in queryset:
            self.run_service(request, services.membership_deactivate, membership=membership)


class RelationshipInline(ScopedInline):
    model = CustomerRelationship
    extra = 0
    fields = ["partner", "kind", "since", "owner"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class CustomerAdminForm(forms.ModelForm):
    def clean(self):
        from . import identity

        cleaned = super().clean()
        key = identity.customer_key(
            name=cleaned.get("legal_name") or "",
            domain=cleaned.get("domain") or "",
            country=cleaned.get("country") or "",
        )
        if identity.matching_customers(key, exclude_pk=self.instance.pk):
            raise forms.ValidationError("This customer exists already in the channel; one account is one record.")
        return cleaned


@admin.register(Customer)
class CustomerAdmin(ScopedAdmin):
    form = CustomerAdminForm
    list_display = ["legal_name", "domain", "country", "status", "owner_partner", "created_at"]
    list_filter = ["status", country_filter("country"), "size"]
    search_fields = ["legal_name", "normalized_name", "domain"]
    list_select_related = ["owner_partner"]
    readonly_fields = ["normalized_name", "domain_key", "owner_partner", "created_by", "created_at", "updated_at"]
    inlines = [RelationshipInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in services.CUSTOMER_FIELDS}
            services.customer_update(user=request.user, customer=obj, **changed)
        else:
            data = {name: form.cleaned_data.get(name) or "" for name in services.CUSTOMER_FIELDS if name != "status"}
            obj.pk = services.customer_create(user=request.user, **data).pk


class ConfigAdmin(admin.ModelAdmin):
    """The parent's channel-wide configuration: saves and deletes go through the audited service
    (the parent's admins only)."""

    def save_model(self, request, obj, form, change):
        services.config_save(user=request.user, obj=obj, changed_fields=form.changed_data)

    def delete_model(self, request, obj):
        services.config_delete(user=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.config_delete(user=request.user, obj=obj)


@admin.register(ProgramTier)
class ProgramTierAdmin(ConfigAdmin):
    list_display = ["name", "rank", "protection_days", "lead_accept_hours", "routing_weight"]


@admin.register(ProductLine)
class ProductLineAdmin(ConfigAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    list_display = ["created_at", "actor", "verb", "object_repr", "partner", "ip_address", "request_id"]
    list_filter = ["partner", "content_type", DATE_FILTER]
    search_fields = ["object_repr", "verb", "actor__username", "request_id"]
    list_select_related = ["actor", "partner"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerClaim)
class CustomerClaimAdmin(ScopedAdmin):
    """Partners' requests for accounts that exist already: link the partner to the account or reject."""

    list_display = ["legal_name", "country", "partner", "matched_customer", "status", "created_at"]
    list_filter = ["status", "partner"]
    list_select_related = ["partner", "matched_customer"]
    actions = ["link", "reject"]
    readonly_fields = [f.name for f in CustomerClaim._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, func, done):
        from . import identity

        count = 0
        for claim in queryset:
            count += (
                self.run_service(request, getattr(identity, func), claim=claim, reason="Decided in the admin.")
                is not None
            )
        if count:
            self.message_user(request, f"{count} {done}.", messages.SUCCESS)

    @admin.action(description="Link the partner to the existing customer")
    def link(self, request, queryset):
        self._decide(request, queryset, "customer_claim_link", "linked")

    @admin.action(description="Reject the request")
    def reject(self, request, queryset):
        self._decide(request, queryset, "customer_claim_reject", "rejected")


# The admin index: the business apps first (technical ones, such as tokens and lockouts, after them).
BUSINESS_APPS = ["partners", "deals", "quotes", "cases", "renewals", "mdf", "analytics"]


def _business_first(get_app_list):
    def get_app_list_ordered(request, app_label=None):
        apps = get_app_list(request, app_label)
        rank = {label: index for index, label in enumerate(BUSINESS_APPS)}
        return sorted(apps, key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"]))

    return get_app_list_ordered


if not getattr(admin.site.get_app_list, "business_first", False):
    admin.site.get_app_list = _business_first(admin.site.get_app_list)
    admin.site.get_app_list.business_first = True
