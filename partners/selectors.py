"""Reads of partners, people and customers, always starting from the caller's scope."""

from django.db.models import Count, Prefetch, Q

from .models import AuditEvent, Customer, CustomerRelationship, Membership, Partner


def partner_list(*, user, search: str = "", status: str = "", business_model: str = ""):
    queryset = Partner.objects.for_user(user).select_related("tier")
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    if status:
        queryset = queryset.filter(status=status)
    if business_model:
        queryset = queryset.filter(business_model=business_model)
    return queryset.order_by("name")


def partner_get(*, user, slug: str):
    return (
        Partner.objects.for_user(user)
        .select_related("tier", "agreement")
        .prefetch_related("territories", "expertise")
        .filter(slug=slug)
        .first()
    )


def team_list(*, user, partner):
    return Membership.objects.for_user(user).filter(partner=partner).select_related("user").order_by("user__username")


def membership_get(*, user, pk):
    return Membership.objects.for_user(user).select_related("user", "partner").filter(pk=pk).first()


def customer_list(*, user, search: str = "", country: str = "", status: str = ""):
    queryset = Customer.objects.for_user(user).select_related("owner_partner")
    if search:
        queryset = queryset.filter(Q(legal_name__icontains=search) | Q(domain__icontains=search))
    if country:
        queryset = queryset.filter(country__iexact=country)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("legal_name")


def visible_relationships(user) -> Prefetch:
    """A customer's relationships as the caller may see them: only those of partners the caller sees
    (a channel manager never learns which unmanaged partner also works the customer)."""
    return Prefetch(
        "relationships",
        queryset=CustomerRelationship.objects.for_user(user).select_related("partner").order_by("since"),
    )


def customer_get(*, user, pk):
    return (
        Customer.objects.for_user(user)
        .select_related("owner_partner")
        .prefetch_related(visible_relationships(user))
        .filter(pk=pk)
        .first()
    )


def partner_status_counts(*, user) -> dict:
    return dict(Partner.objects.for_user(user).values_list("status").annotate(n=Count("pk")).order_by())


def recent_audit(*, user, partner=None, limit=10):
    queryset = AuditEvent.objects.for_user(user).select_related("actor")
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset[:limit]
