"""Reads of leads, registrations, opportunities and commissions, always from the caller's scope."""

from decimal import Decimal

from django.db.models import Prefetch, Q

from partners.access import actor_of, sees_status_only
from partners.models import Commission, CommissionStatus
from prm.security.bounds import money_sum

from .models import (
    OPEN_STAGES,
    DealRegistration,
    DealRegistrationLine,
    Lead,
    LeadOffer,
    OfferStatus,
    Opportunity,
    OpportunityStage,
    RegistrationConflict,
    RegistrationExtension,
    RegistrationStatus,
)

# Relation loading, shared by the API (narrow_queryset) and the portal.


def with_lead_relations(queryset, user):
    # No `partner`: lists and the serializer show only its id.
    return queryset.select_related("product_interest", "owner", "opportunity").prefetch_related(
        Prefetch(
            "offers",
            queryset=LeadOffer.objects.for_user(user).filter(status=OfferStatus.PENDING),
            to_attr="pending_offers",
        )
    )


def with_registration_relations(queryset, user, *, api=False):
    """`api=True`: what the API's serializer reads (ids only for partner, customer and products)."""
    lines = DealRegistrationLine.objects.for_user(user)
    prefetches = [
        Prefetch("lines", queryset=lines if api else lines.select_related("product")),
        Prefetch("extensions", queryset=RegistrationExtension.objects.for_user(user)),
    ]
    if actor_of(user).is_parent:
        prefetches.append(Prefetch("conflicts", queryset=RegistrationConflict.objects.for_user(user)))
    if api:
        return queryset.prefetch_related(*prefetches)
    return queryset.select_related("partner", "customer").prefetch_related(*prefetches)


def with_opportunity_relations(queryset, *, api=False):
    if api:  # the serializer shows the partner's id only
        return queryset.select_related("customer", "owner", "registered_by")
    return queryset.select_related("partner", "customer", "owner", "registered_by")


# Leads


def lead_list(*, user, status: str = "", search: str = ""):
    queryset = with_lead_relations(Lead.objects.for_user(user), user)
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(company_name__icontains=search) | Q(company_domain__icontains=search))
    return queryset.order_by("-created_at", "-id")


def lead_get(*, user, pk):
    lead = with_lead_relations(Lead.objects.for_user(user), user).filter(pk=pk).first()
    return lead


def lead_offers(*, user, lead):
    return LeadOffer.objects.for_user(user).filter(lead=lead).select_related("partner", "offered_by")


# Registrations


def registration_list(*, user, status: str = "", search: str = ""):
    queryset = with_registration_relations(DealRegistration.objects.for_user(user), user)
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(customer_name__icontains=search) | Q(customer_domain__icontains=search))
    return queryset.order_by("-created_at", "-id")


def review_queue(*, user):
    """Submitted registrations, oldest submission first (first in wins)."""
    return (
        with_registration_relations(DealRegistration.objects.for_user(user), user)
        .filter(status=RegistrationStatus.SUBMITTED)
        .order_by("submitted_at", "pk")
    )


def next_registration_to_review(*, user, after):
    """The oldest submission still waiting other than `after` (for "approve and next")."""
    return (
        DealRegistration.objects.for_user(user)
        .filter(status=RegistrationStatus.SUBMITTED)
        .exclude(pk=after.pk)
        .order_by("submitted_at", "pk")
        .first()
    )


def registration_get(*, user, pk):
    return with_registration_relations(DealRegistration.objects.for_user(user), user).filter(pk=pk).first()


def conflicting_registrations(*, user, registration) -> list:
    """For the reviewer: the registrations on either side of this one's conflicts, visible to them."""
    ids = {c.conflicting_registration_id for c in registration.conflicts.all() if c.conflicting_registration_id}
    ids |= set(
        RegistrationConflict.objects.for_user(user)
        .filter(conflicting_registration=registration)
        .values_list("registration_id", flat=True)
    )
    ids.discard(registration.pk)
    return list(
        with_registration_relations(DealRegistration.objects.for_user(user), user)
        .filter(pk__in=ids)
        .order_by("submitted_at", "pk")
    )


# Opportunities


# What a status-only partner (the referral agreement) does not see of an opportunity.
STATUS_ONLY_HIDDEN = ("amount", "probability", "expected_close_date", "owner", "order_placed_at", "closed_at")


def redact_for(user, opportunities):
    """Blank what the caller's agreement hides (partners.access.sees_status_only); returns the list."""
    opportunities = list(opportunities)
    if sees_status_only(actor_of(user)):
        for opportunity in opportunities:
            for name in STATUS_ONLY_HIDDEN:
                setattr(opportunity, name, None)
    return opportunities


def opportunity_list(*, user, stage: str = ""):
    queryset = with_opportunity_relations(Opportunity.objects.for_user(user))
    if stage:
        queryset = queryset.filter(stage=stage)
    return queryset.order_by("-created_at", "-id")


def opportunity_get(*, user, pk):
    found = with_opportunity_relations(Opportunity.objects.for_user(user)).filter(pk=pk).first()
    return redact_for(user, [found])[0] if found is not None else None


def pipeline(*, user) -> list[dict]:
    """Opportunities by stage (the open ones, and the last closed ones), with each column's total
    (none for a status-only partner)."""
    queryset = with_opportunity_relations(Opportunity.objects.for_user(user))
    status_only = sees_status_only(actor_of(user))
    columns = []
    for value, label in OpportunityStage.choices:
        rows = queryset.filter(stage=value).order_by("expected_close_date", "-id")
        limit = None if value in OPEN_STAGES else 20
        items = redact_for(user, rows[:limit] if limit else rows[:200])
        total = None if status_only else rows.aggregate(total=money_sum("amount"))["total"] or Decimal("0.00")
        columns.append({"stage": value, "label": label, "items": items, "total": total, "count": rows.count()})
    return columns


# Commissions


def commission_list(*, user, status: str = ""):
    queryset = Commission.objects.for_user(user).select_related("partner", "customer")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-accrued_at", "-id")


def commission_totals(queryset) -> dict:
    sums = dict(queryset.order_by().values_list("status").annotate(total=money_sum("amount")))
    return {value: sums.get(value) or Decimal("0.00") for value in CommissionStatus.values}
