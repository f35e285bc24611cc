"""The one access policy. Every API view, portal view, admin class, selector and task reads
tenant data through `Model.objects.for_user(user)` (or `for_partner(partner_id)` in tasks).

Who is the caller (`actor_of`), and which rows of a model they may see (`TenantQuerySet`).
Parent admins and fraud analysts see every partner; channel managers see the partners granted to
them (django-guardian object permission `partners.manage_partner`); other parent staff see the
whole channel for their function; a partner user sees what its own partner's agreement allows and,
inside the partner, by role (reps and marketing: their own records and those shared with them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef, Q


class ParentRole:
    CHANNEL_MANAGER = "Channel manager"
    SALES = "Sales"
    SUPPORT = "Support"
    FINANCE = "Finance"
    MARKETING = "Marketing"
    FRAUD_ANALYST = "Fraud analyst"
    ADMIN = "Admin"

    ALL = (CHANNEL_MANAGER, SALES, SUPPORT, FINANCE, MARKETING, FRAUD_ANALYST, ADMIN)
    # Roles that see every partner whatever else they hold.
    CHANNEL_WIDE = (SALES, SUPPORT, FINANCE, MARKETING, FRAUD_ANALYST, ADMIN)


class PartnerRole(models.TextChoices):
    ADMIN = "admin", "Partner admin"
    MANAGER = "manager", "Manager"
    REP = "rep", "Sales rep"
    SUPPORT = "support", "Support agent"
    MARKETING = "marketing", "Marketing"


# Partner roles that see every record of their partner; the others see their own and shared ones.
PARTNER_WIDE_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER, PartnerRole.SUPPORT}


@dataclass(frozen=True)
class Actor:
    """The caller as the access policy sees them; computed once per user object."""

    user: object = None
    kind: str = "anonymous"  # "anonymous" | "parent" | "partner" | "blocked" (partner suspended)
    parent_roles: frozenset = field(default_factory=frozenset)
    partner: object = None
    role: str | None = None
    # Partner ids a parent user may see; None means all of them.
    partner_ids: frozenset | None = frozenset()

    @property
    def user_id(self):
        return getattr(self.user, "pk", None)

    @property
    def is_parent(self) -> bool:
        return self.kind == "parent"

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner"

    @property
    def is_blocked(self) -> bool:
        return self.kind == "blocked"

    @property
    def has_access(self) -> bool:
        return self.kind in ("parent", "partner")

    @property
    def partner_id(self):
        return self.partner.pk if self.partner is not None else None

    @property
    def agreement(self):
        return self.partner.agreement if self.partner is not None else None

    @property
    def is_parent_admin(self) -> bool:
        return self.is_parent and (getattr(self.user, "is_superuser", False) or ParentRole.ADMIN in self.parent_roles)

    @property
    def sees_all_partners(self) -> bool:
        return self.is_parent and self.partner_ids is None

    @property
    def sees_partner_wide(self) -> bool:
        return self.is_partner and self.role in PARTNER_WIDE_ROLES

    @property
    def is_partner_admin(self) -> bool:
        return self.is_partner and self.role == PartnerRole.ADMIN

    def has_parent_role(self, *roles) -> bool:
        return self.is_parent and (self.is_parent_admin or bool(self.parent_roles.intersection(roles)))

    def may_see_partner(self, partner_id) -> bool:
        if self.is_parent:
            return self.partner_ids is None or partner_id in self.partner_ids
        return self.is_partner and partner_id == self.partner_id


ANONYMOUS = Actor()
BLOCKED_PARTNER_STATUSES = ("suspended", "terminated")


def actor_of(user) -> Actor:
    """Resolve (and cache on the user object) who the caller is."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_prm_actor", None)
    if cached is not None:
        return cached
    from .models import Membership, PartnerUserObjectPermission

    membership = (
        Membership.objects.select_related("partner__agreement", "partner__tier")
        .filter(user_id=user.pk, is_active=True)
        .first()
    )
    if membership is not None and membership.partner.status in BLOCKED_PARTNER_STATUSES:
        # A suspended or terminated partner's people keep their accounts but lose all access.
        actor = Actor(user=user, kind="blocked", partner=membership.partner, role=membership.role)
    elif membership is not None:
        actor = Actor(user=user, kind="partner", partner=membership.partner, role=membership.role)
    elif user.is_staff or user.is_superuser:
        roles = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser or roles.intersection(ParentRole.CHANNEL_WIDE):
            partner_ids = None
        else:
            # Channel managers: explicit grants only, never global permissions.
            partner_ids = frozenset(
                PartnerUserObjectPermission.objects.filter(
                    user_id=user.pk, permission__codename="manage_partner"
                ).values_list("content_object_id", flat=True)
            )
        actor = Actor(user=user, kind="parent", parent_roles=roles, partner_ids=partner_ids)
    else:
        actor = ANONYMOUS
    user._prm_actor = actor
    return actor


def forget_actor(user) -> None:
    """Drop the cached actor, after a change of roles or membership."""
    if user is not None and hasattr(user, "_prm_actor"):
        del user._prm_actor


# Actors across requests ---------------------------------------------------------------------
#
# An API token's user and actor are cached (prm.api.authentication) under the current *access
# generation*: one stamp in the shared cache, replaced after the commit of any change that can alter
# who a caller is or what they may see (a membership, a partner's status, agreement or tier, a user's
# activity or groups, a channel manager's grants, a token's revocation). A cached entry of another
# generation is never used, so a suspension or a revoked role takes effect on the next request.

ACCESS_GENERATION_KEY = "prm:access-generation"


def access_generation() -> str:
    from django.core.cache import cache

    generation = cache.get(ACCESS_GENERATION_KEY)
    if generation is None:
        # Lost (a cache restart): a new stamp, so no entry written before the loss is trusted.
        import uuid

        cache.add(ACCESS_GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(ACCESS_GENERATION_KEY)
    return generation


def bump_access_generation() -> None:
    """A new generation now and again after the commit: an entry cached in between (from the rows
    before the commit) belongs to the generation the commit replaces."""
    import uuid

    from django.core.cache import cache
    from django.db import transaction

    def bump():
        cache.set(ACCESS_GENERATION_KEY, uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)


# Saves that change nothing an actor or a token depends on: a login stamps `last_login` on every
# sign-in, which would otherwise empty every cached token of the whole channel each time.
IRRELEVANT_UPDATES = frozenset({"last_login"})


def _access_changed(sender, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and set(update_fields) <= IRRELEVANT_UPDATES):
        return
    bump_access_generation()


def connect_access_invalidation() -> None:
    """What changes an actor or a token: see `ACCESS_GENERATION_KEY`."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from knox.models import AuthToken

    from .models import Agreement, Membership, Partner, PartnerUserObjectPermission, ProgramTier

    User = get_user_model()
    for model in (User, Group, Membership, Partner, Agreement, ProgramTier, PartnerUserObjectPermission):
        post_save.connect(_access_changed, sender=model, dispatch_uid=f"prm-access-save-{model._meta.label}")
        post_delete.connect(_access_changed, sender=model, dispatch_uid=f"prm-access-delete-{model._meta.label}")
    post_delete.connect(_access_changed, sender=AuthToken, dispatch_uid="prm-access-delete-token")
    m2m_changed.connect(_access_changed, sender=User.groups.through, dispatch_uid="prm-access-groups")
    m2m_changed.connect(_access_changed, sender=User.user_permissions.through, dispatch_uid="prm-access-perms")


class TenantQuerySet(models.QuerySet):
    """A queryset that knows how to scope itself to the caller.

    Subclasses (or models through `TenantQuerySet.configure`) set:
    - `partner_path`: lookup from the model to its Partner (a direct foreign key, indexed);
    - `owner_path`: lookup to the partner user who owns the record, for reps (None: no owner);
    - `grant_model`: a django-guardian direct-FK `UserObjectPermissionBase` subclass whose grants
      share single records with single partner users.
    and may override `visible_to_partner` / `visible_to_parent` for agreement rules.
    """

    partner_path = "partner"
    owner_path: str | None = None
    grant_model_label: str | None = None

    def for_user(self, user):
        actor = actor_of(user)
        if actor.is_parent:
            qs = self
            if actor.partner_ids is not None:
                qs = qs.filter(self._partner_in(actor.partner_ids))
            return qs.visible_to_parent(actor)
        if actor.is_partner:
            return self.visible_to_partner(actor)
        return self.none()

    def for_partner(self, partner_id):
        return self.filter(**{self.partner_path: partner_id})

    # Hooks -------------------------------------------------------------------------------
    def visible_to_parent(self, actor):
        return self

    def visible_to_partner(self, actor):
        qs = self.filter(**{self.partner_path: actor.partner_id})
        if actor.sees_partner_wide or self.owner_path is None:
            return qs
        return qs.filter(self.owned_or_shared(actor))

    # Helpers -----------------------------------------------------------------------------
    def _partner_in(self, partner_ids):
        return Q(**{f"{self.partner_path}__in": sorted(partner_ids)})

    def owned_or_shared(self, actor) -> Q:
        condition = Q(**{self.owner_path: actor.user_id}) if self.owner_path else Q(pk__in=[])
        grant_model = self.grant_model()
        if grant_model is not None:
            condition |= Q(Exists(grant_model.objects.filter(content_object=OuterRef("pk"), user_id=actor.user_id)))
        return condition

    def grant_model(self):
        if not self.grant_model_label:
            return None
        from django.apps import apps

        return apps.get_model(self.grant_model_label)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


# What each commission pays for, by the prefix of its ledger key (`source_ref`): a commission follows
# the visibility of that record. Labels, not imports: partners sits below the domain apps.
LEDGER_SOURCES = {
    "opportunity": "deals.Opportunity",
    "deal-registration": "deals.DealRegistration",
    "order": "quotes.Order",
}


class CommissionQuerySet(TenantQuerySet):
    """Partner admins, managers and support see the partner's whole ledger; reps and marketing only the
    commissions on records they may see themselves (a colleague's hidden deal stays hidden here too)."""

    def visible_to_partner(self, actor):
        qs = self.filter(partner=actor.partner_id)
        if actor.sees_partner_wide:
            return qs
        from django.apps import apps
        from django.db.models import CharField, Value
        from django.db.models.functions import Cast, Concat

        condition = Q(pk__in=[])
        for prefix, label in LEDGER_SOURCES.items():
            refs = (
                apps.get_model(label)
                .objects.for_user(actor.user)
                .annotate(ledger_ref=Concat(Value(f"{prefix}:"), Cast("pk", CharField())))
                .values("ledger_ref")
            )
            condition |= Q(source_ref__in=refs)
        return qs.filter(condition)


def sees_status_only(actor) -> bool:
    """A partner whose agreement shows it only the status of what it referred and its own commission
    (the referral preset): amounts, probabilities, dates and the parent's people stay hidden."""
    return actor.is_partner and actor.agreement.post_win_visibility == "status_only"
