"""Every write to partners, memberships and customers. Each function checks rights and invariants,
runs in a transaction and writes an audit event."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from . import audit, permissions
from .access import BLOCKED_PARTNER_STATUSES, ParentRole, PartnerRole, actor_of, forget_actor
from .agreement import DIMENSIONS, PRESETS, BusinessModel
from .models import (
    Agreement,
    Customer,
    CustomerRelationship,
    Membership,
    Partner,
    PartnerStatus,
    PartnerUserObjectPermission,
    RelationshipKind,
    Territory,
)
from .presentation import label

User = get_user_model()


def transition_error(obj, current, target):
    return ValidationError(
        {"status": [f"A {obj._meta.verbose_name} cannot move from “{label(current)}” to “{label(target)}”."]},
        code="illegal_transition",
    )


def _snapshot(obj, fields):
    return {name: getattr(obj, name) for name in fields}


# Partners ----------------------------------------------------------------------------------------


@transaction.atomic
def partner_create(
    *, user, name, slug, business_model, country, tier=None, territories=(), expertise=(), **fields
) -> Partner:
    actor = actor_of(user)
    if not actor.is_parent_admin:
        raise PermissionDenied("Only the parent's admins create partners.")
    partner = Partner(name=name, slug=slug, business_model=business_model, country=country, tier=tier, **fields)
    partner.full_clean()
    partner.save()
    Agreement.objects.create(partner=partner, **PRESETS[BusinessModel(business_model)])
    for country_code in territories:
        Territory.objects.create(partner=partner, country=country_code)
    partner.expertise.set(expertise)
    audit.record(
        actor=user, verb="partner.create", obj=partner, partner=partner, changes={"business_model": business_model}
    )
    return partner


@transaction.atomic
def partner_transition(*, user, partner: Partner, status: str, reason: str = "") -> Partner:
    if not permissions.can_manage_partner(user, partner):
        raise PermissionDenied("You may not change this partner's status.")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if status not in PartnerStatus.values or not partner.can_transition_to(status):
        raise transition_error(partner, partner.status, status)
    before = partner.status
    partner.status = status
    if status == PartnerStatus.ACTIVE and partner.activated_at is None:
        partner.activated_at = timezone.now()
    partner.save(update_fields=["status", "activated_at", "updated_at"])
    if status in BLOCKED_PARTNER_STATUSES:
        from prm.security.tokens import tokens_revoke_for_partner

        tokens_revoke_for_partner(partner=partner)  # API tokens die with the suspension
    audit.record(
        actor=user,
        verb=f"partner.{status}",
        obj=partner,
        partner=partner,
        changes={"status": [before, status]},
        reason=reason,
    )
    return partner


@transaction.atomic
def partner_update(*, user, partner: Partner, **fields) -> Partner:
    """Profile fields (name, tier, country, website, credit limit, branding, territories, expertise)."""
    branding = {"display_name", "brand_color", "logo"}
    if set(fields) <= branding:
        allowed = permissions.can_edit_branding(user, partner)
    else:
        allowed = permissions.can_manage_partner(user, partner)
    if not allowed:
        raise PermissionDenied("You may not change this partner.")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    territories = fields.pop("territories", None)
    expertise = fields.pop("expertise", None)
    before = _snapshot(partner, fields)
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.full_clean()
    partner.save()
    changes = audit.diff(before, _snapshot(partner, fields))
    if territories is not None:
        old = sorted(partner.territories.values_list("country", flat=True))
        partner.territories.exclude(country__in=territories).delete()
        for code in territories:
            Territory.objects.get_or_create(partner=partner, country=code)
        if old != sorted(set(territories)):
            changes["territories"] = [old, sorted(set(territories))]
    if expertise is not None:
        old = sorted(partner.expertise.values_list("code", flat=True))
        partner.expertise.set(expertise)
        new = sorted(partner.expertise.values_list("code", flat=True))
        if old != new:
            changes["expertise"] = [old, new]
    if changes:
        audit.record(actor=user, verb="partner.update", obj=partner, partner=partner, changes=changes)
    return partner


@transaction.atomic
def partner_agreement_update(*, user, partner: Partner, reason: str = "", **dimensions) -> Agreement:
    """Override single policy dimensions of a partner's agreement; every override is audited."""
    if not permissions.can_manage_partner(user, partner):
        raise PermissionDenied("You may not change this partner's agreement.")
    unknown = set(dimensions) - set(DIMENSIONS)
    if unknown:
        raise ValidationError({name: ["Not a policy dimension."] for name in sorted(unknown)})
    agreement = Agreement.objects.select_for_update().select_related("partner").get(pk=partner.pk)
    before = _snapshot(agreement, dimensions)
    for name, value in dimensions.items():
        setattr(agreement, name, value)
    agreement.full_clean()
    agreement.save()
    changes = audit.diff(before, _snapshot(agreement, dimensions))
    if changes:
        audit.record(
            actor=user, verb="agreement.override", obj=agreement, partner=partner, changes=changes, reason=reason
        )
    return agreement


@transaction.atomic
def partner_apply_preset(*, user, partner: Partner, business_model: str, reason: str = "") -> Agreement:
    """Move a partner to another business model: its preset replaces every dimension."""
    if not permissions.can_manage_partner(user, partner):
        raise PermissionDenied("You may not change this partner's agreement.")
    if business_model not in BusinessModel.values:
        raise ValidationError({"business_model": ["Unknown business model."]})
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    agreement = partner.agreement
    before = _snapshot(agreement, DIMENSIONS) | {"business_model": partner.business_model}
    partner.business_model = business_model
    partner.save(update_fields=["business_model", "updated_at"])
    for name, value in PRESETS[BusinessModel(business_model)].items():
        setattr(agreement, name, value)
    agreement.save()
    changes = audit.diff(before, _snapshot(agreement, DIMENSIONS) | {"business_model": business_model})
    audit.record(actor=user, verb="agreement.preset", obj=agreement, partner=partner, changes=changes, reason=reason)
    return agreement


@transaction.atomic
def partner_manager_grant(*, user, partner: Partner, manager) -> None:
    if not actor_of(user).is_parent_admin:
        raise PermissionDenied("Only the parent's admins assign channel managers.")
    if not manager.is_staff or hasattr(manager, "membership"):
        raise ValidationError({"manager": ["A channel manager is a member of the parent's staff."]})
    if PartnerUserObjectPermission.objects.filter(
        user=manager, content_object=partner, permission__codename="manage_partner"
    ).exists():
        return
    assign_perm("partners.manage_partner", manager, partner)
    forget_actor(manager)
    audit.record(
        actor=user,
        verb="partner.manager_grant",
        obj=partner,
        partner=partner,
        changes={"manager": [None, manager.username]},
    )


@transaction.atomic
def partner_manager_revoke(*, user, partner: Partner, manager) -> None:
    if not actor_of(user).is_parent_admin:
        raise PermissionDenied("Only the parent's admins assign channel managers.")
    remove_perm("partners.manage_partner", manager, partner)
    forget_actor(manager)
    audit.record(
        actor=user,
        verb="partner.manager_revoke",
        obj=partner,
        partner=partner,
        changes={"manager": [manager.username, None]},
    )


# People ------------------------------------------------------------------------------------------


def partner_username(partner: Partner, username: str) -> str:
    """The partner's namespace: "alpha-" + the name asked for, unless it already starts so."""
    username = (username or "").strip()
    prefix = f"{partner.slug}-"
    name = username if username.lower().startswith(prefix) else prefix + username
    if len(name) > 150 or not username:
        raise ValidationError(
            {"username": [f"Choose a shorter username (it becomes {prefix}…, at most 150 characters)."]}
        )
    return name


@transaction.atomic
def membership_invite(
    *, user, partner: Partner, username: str, email: str, role: str, first_name: str = "", last_name: str = ""
) -> Membership:
    """Create a partner user without a usable password and send them a link to set one."""
    from .tasks import send_invitation

    if not permissions.can_manage_team(user, partner):
        raise PermissionDenied("You may not invite people to this partner.")
    if role not in PartnerRole.values:
        raise ValidationError({"role": ["Unknown role."]})
    # Whether an account exists at another partner or among the parent's staff is not the inviter's to
    # learn: usernames live in the partner's own namespace ("<slug>-…"), and an email is checked against
    # the partner's own people only (one person may work for two partners, with two accounts).
    username = partner_username(partner, username)
    errors = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"The username {username} is not available."]
    if Membership.objects.filter(partner=partner, user__email__iexact=email).exists():
        errors["email"] = ["Someone in this partner already has this email."]
    if errors:
        raise ValidationError(errors)
    new_user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    new_user.set_unusable_password()
    new_user.full_clean(exclude=["password"])
    new_user.save()
    membership = Membership.objects.create(user=new_user, partner=partner, role=role, invited_by=user)
    audit.record(actor=user, verb="membership.invite", obj=membership, partner=partner, changes={"role": [None, role]})
    transaction.on_commit(lambda: send_invitation.delay(membership.pk))
    return membership


@transaction.atomic
def membership_update(
    *, user, membership: Membership, role: str | None = None, is_active: bool | None = None
) -> Membership:
    if not permissions.can_manage_team(user, membership.partner):
        raise PermissionDenied("You may not manage this partner's team.")
    membership = Membership.objects.select_for_update().select_related("user", "partner").get(pk=membership.pk)
    if membership.user_id == getattr(user, "pk", None) and (is_active is False or (role and role != membership.role)):
        raise ValidationError({"user": ["You cannot demote or deactivate yourself."]})
    before = {"role": membership.role, "is_active": membership.is_active}
    if role is not None:
        if role not in PartnerRole.values:
            raise ValidationError({"role": ["Unknown role."]})
        membership.role = role
    if is_active is not None:
        membership.is_active = is_active
        membership.user.is_active = is_active
        membership.user.save(update_fields=["is_active"])
    if membership.is_active is False or membership.role != PartnerRole.ADMIN:
        others = Membership.objects.filter(partner=membership.partner, role=PartnerRole.ADMIN, is_active=True).exclude(
            pk=membership.pk
        )
        if before["role"] == PartnerRole.ADMIN and before["is_active"] and not others.exists():
            raise ValidationError({"role": ["A partner keeps at least one active admin."]})
    membership.save()
    forget_actor(membership.user)
    changes = audit.diff(before, {"role": membership.role, "is_active": membership.is_active})
    if changes:
        verb = "membership.deactivate" if is_active is False else "membership.update"
        audit.record(actor=user, verb=verb, obj=membership, partner=membership.partner, changes=changes)
    return membership


def membership_deactivate(*, user, membership: Membership) -> Membership:
    return membership_update(user=user, membership=membership, is_active=False)


def parent_staff_create(*, user, username, email, role, password=None, superuser=False):
    """Create a parent-staff user in one of the parent's role groups."""
    from django.contrib.auth.models import Group

    if not actor_of(user).is_parent_admin:
        raise PermissionDenied("Only the parent's admins add parent staff.")
    if role not in ParentRole.ALL:
        raise ValidationError({"role": ["Unknown parent role."]})
    with transaction.atomic():
        staff = User.objects.create_user(
            username=username, email=email, password=password, is_staff=True, is_superuser=superuser
        )
        staff.groups.add(Group.objects.get(name=role))
        audit.record(actor=user, verb="staff.create", obj=staff, changes={"role": [None, role]})
    return staff


# Customers ---------------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("legal_name", "domain", "country", "industry", "size", "status")


@transaction.atomic
def customer_create(*, user, legal_name, country, domain="", industry="", size="", owner=None):
    """A new end-customer account. Created by a partner user, it starts an originating relationship
    of that partner, managed by the creating user (or `owner`).

    One record per customer (partners/identity.py): when the account exists already, the partner's
    request returns the record it already holds, or becomes a CustomerClaim for the parent to decide
    (the return value is then the claim); the parent is told the customer exists (400)."""
    from . import identity

    actor = actor_of(user)
    if not permissions.can_create_customer(user):
        raise PermissionDenied("You may not create customers.")
    customer = Customer(
        legal_name=legal_name, country=country, domain=domain, industry=industry, size=size, created_by=user
    )
    customer.refresh_keys()
    customer.full_clean(validate_constraints=False)
    key = identity.customer_key(name=customer.legal_name, domain=customer.domain, country=customer.country)
    identity.lock_key(key)
    matches = identity.matching_customers(key)
    if matches:
        return identity.customer_matched(actor=actor, user=user, customer=customer, matches=matches)
    if actor.is_partner and actor.agreement.customer_owner != "parent":
        customer.owner_partner = actor.partner
    identity.save_unique(customer)
    if actor.is_partner:
        CustomerRelationship.objects.create(
            customer=customer, partner=actor.partner, kind=RelationshipKind.ORIGINATING, owner=owner or user
        )
    audit.record(
        actor=user,
        verb="customer.create",
        obj=customer,
        partner=actor.partner,
        changes={name: [None, getattr(customer, name)] for name in CUSTOMER_FIELDS if getattr(customer, name)},
    )
    return customer


@transaction.atomic
def customer_update(*, user, customer: Customer, **fields) -> Customer:
    from . import identity

    if not permissions.can_edit_customer(user, customer):
        raise PermissionDenied("You may not change this customer.")
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = _snapshot(customer, fields)
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.refresh_keys()
    customer.full_clean(validate_constraints=False)
    if {"legal_name", "domain", "country"} & set(fields):
        # Renaming a customer into another one would make two records of one account.
        key = identity.customer_key(name=customer.legal_name, domain=customer.domain, country=customer.country)
        identity.lock_key(key)
        if identity.matching_customers(key, exclude_pk=customer.pk):
            raise ValidationError(
                {"legal_name": ["Another customer record has this name or domain; ask the parent to merge them."]},
                code="duplicate_customer",
            )
    identity.save_unique(customer)
    changes = audit.diff(before, _snapshot(customer, fields))
    if changes:
        audit.record(actor=user, verb="customer.update", obj=customer, partner=actor_of(user).partner, changes=changes)
    return customer


@transaction.atomic
def customer_relationship_add(
    *, user, customer: Customer, partner: Partner, kind: str, owner=None
) -> CustomerRelationship:
    """Record that a partner holds a relationship to a customer (after a win, a hand-over, a renewal)."""
    actor = actor_of(user)
    if actor.is_partner:
        raise PermissionDenied("Relationships are recorded by the parent or by the system.")
    relationship, created = CustomerRelationship.objects.get_or_create(
        customer=customer, partner=partner, kind=kind, defaults={"owner": owner}
    )
    if created:
        audit.record(
            actor=user, verb="customer.relationship_add", obj=customer, partner=partner, changes={"kind": [None, kind]}
        )
    return relationship


@transaction.atomic
def customer_share(*, user, customer: Customer, with_user) -> None:
    """Share one customer with one colleague of the same partner (a django-guardian object grant)."""
    actor = actor_of(user)
    target = getattr(with_user, "membership", None)
    if not (actor.is_partner and actor.sees_partner_wide) or target is None or target.partner_id != actor.partner_id:
        raise PermissionDenied("You may share customers only with your own colleagues.")
    assign_perm("partners.view_customer", with_user, customer)
    audit.record(
        actor=user,
        verb="customer.share",
        obj=customer,
        partner=actor.partner,
        changes={"shared_with": [None, with_user.username]},
    )


# Parent configuration (admin) ---------------------------------------------------------------------


@transaction.atomic
def config_save(*, user, obj, changed_fields=(), roles=()) -> object:
    """Save a row of the parent's channel configuration (tiers, product lines, pricing, rules, queues…)
    from the admin: parent admins and the given parent roles only, validated, audited."""
    if not actor_of(user).has_parent_role(*roles):
        raise PermissionDenied("You may not change this configuration.")
    created = obj.pk is None
    obj.full_clean()
    obj.save()
    audit.record(
        actor=user,
        verb=f"{obj._meta.app_label}.{obj._meta.model_name}.{'create' if created else 'update'}",
        obj=obj,
        partner=getattr(obj, "partner_id", None),
        changes=audit.diff({}, {name: getattr(obj, name, None) for name in changed_fields}),
    )
    return obj


@transaction.atomic
def config_delete(*, user, obj, roles=()) -> None:
    if not actor_of(user).has_parent_role(*roles):
        raise PermissionDenied("You may not change this configuration.")
    audit.record(
        actor=user,
        verb=f"{obj._meta.app_label}.{obj._meta.model_name}.delete",
        obj=obj,
        partner=getattr(obj, "partner_id", None),
    )
    obj.delete()
