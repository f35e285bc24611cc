"""Every write to leads, offers, deal registrations, opportunities and their commissions. Each
function checks rights and the state machine (the TRANSITIONS dicts in models.py), runs in a
transaction, locks the row it moves and writes an audit event."""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from analytics import fraud
from partners import audit, ledger
from partners.access import actor_of
from partners.agreement import CommissionModel, CustomerOwner
from partners.models import (
    CommissionSource,
    Customer,
    CustomerRelationship,
    Partner,
    PartnerStatus,
    RelationshipKind,
)
from partners.presentation import label
from prm.security import bounds
from prm.security.ratelimit import RateLimited
from quotes.links import fulfilled_orders_for_opportunity, live_orders_for_opportunity
from quotes.models import Product

from . import notices, permissions
from .matching import DealKey, match_reasons
from .models import (
    DEFAULT_PROBABILITY,
    EDITABLE_REGISTRATION_STATUSES,
    MAX_EXTENSIONS,
    OPEN_REGISTRATION_STATUSES,
    OPEN_STAGES,
    ConflictKind,
    DealRegistration,
    DealRegistrationLine,
    ExtensionStatus,
    Lead,
    LeadOffer,
    LeadSource,
    LeadStatus,
    ManagedBy,
    OfferStatus,
    Opportunity,
    OpportunityFlow,
    OpportunityStage,
    RegistrationConflict,
    RegistrationExtension,
    RegistrationLock,
    RegistrationStatus,
    RoutingRule,
)

CENT = Decimal("0.01")
DEFAULT_PROTECTION_DAYS = 90
DEFAULT_ACCEPT_HOURS = 72
EXPIRY_WARNING_DAYS = 14


def second_approval_threshold() -> Decimal:
    """Registrations worth more than this need two different approvers (setting
    DEALS_SECOND_APPROVAL_ABOVE, default 100,000)."""
    return Decimal(str(getattr(settings, "DEALS_SECOND_APPROVAL_ABOVE", "100000.00")))


def _illegal(kind, current, target):
    return ValidationError(
        {"status": [f"A {kind} cannot move from “{label(current)}” to “{label(target)}”."]}, code="illegal_transition"
    )


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _require(condition: bool, message: str):
    if not condition:
        raise PermissionDenied(message)


# Leads and their distribution --------------------------------------------------------------------

LEAD_FIELDS = (
    "company_name",
    "company_domain",
    "country",
    "product_interest",
    "contact_name",
    "contact_email",
    "contact_phone",
    "description",
)
# Used when no routing rule is configured: territory and expertise, then territory alone.
DEFAULT_RULES = (
    RoutingRule(name="Default: territory and expertise", require_territory=True, require_expertise=True),
    RoutingRule(name="Default: territory", require_territory=True, require_expertise=False),
)


@transaction.atomic
def lead_create(*, user, company_name, country, source=None, route=False, **fields) -> Lead:
    """Parent staff put a lead in the parent's queue (and may route it at once); a partner's seller
    records its own lead, which stays with the partner."""
    actor = actor_of(user)
    _require(permissions.can_create_leads(user), "You may not create leads.")
    unknown = set(fields) - set(LEAD_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    lead = Lead(company_name=company_name, country=(country or "").upper(), created_by=user, **fields)
    if actor.is_partner:
        lead.source, lead.partner, lead.owner = LeadSource.PARTNER, actor.partner, user
    else:
        if source in (None, "", LeadSource.PARTNER):
            raise ValidationError({"source": ["Choose campaign, web or parent sales."]})
        lead.source = source
    lead.full_clean()
    lead.save()
    audit.record(actor=user, verb="lead.create", obj=lead, partner=lead.partner_id, changes={"source": lead.source})
    if route and actor.is_parent:
        from .tasks import route_lead

        transaction.on_commit(lambda: route_lead.delay(lead.pk))
    return lead


def routing_candidates(lead: Lead):
    """(rule, eligible partners) of the first rule that matches the lead and leaves someone, or
    (None, []) when nobody is left. Partners already offered the lead are never eligible again."""
    already = set(LeadOffer.objects.filter(lead=lead).values_list("partner_id", flat=True))
    rules = list(RoutingRule.objects.filter(is_active=True).select_related("min_tier").prefetch_related("partners"))
    for rule in rules or DEFAULT_RULES:
        if rule.country_list and lead.country not in rule.country_list:
            continue
        if rule.source and rule.source != lead.source:
            continue
        if rule.product_line_id and rule.product_line_id != lead.product_interest_id:
            continue
        partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).exclude(pk__in=already)
        if rule.require_territory:
            partners = partners.filter(territories__country=lead.country)
        if rule.require_expertise and lead.product_interest_id:
            partners = partners.filter(expertise=lead.product_interest_id)
        if rule.min_tier_id:
            partners = partners.filter(tier__rank__gte=rule.min_tier.rank)
        if rule.pk:
            chosen = [p.pk for p in rule.partners.all()]
            if chosen:
                partners = partners.filter(pk__in=chosen)
        candidates = list(partners.select_related("tier").distinct().order_by("pk"))
        if candidates:
            return rule, candidates
    return None, []


def _pick(rule, candidates, rng=None):
    rng = rng or random.Random()
    if len(candidates) == 1:
        return candidates[0]
    if rule.weight_by_tier:
        weights = [max(p.tier.routing_weight if p.tier else 1, 1) for p in candidates]
    else:
        weights = [1] * len(candidates)
    return rng.choices(candidates, weights=weights, k=1)[0]


def _partners_own(lead: Lead) -> bool:
    """A lead the partner generated itself (flow 3 of the seed): it stays with that partner, who
    manages it; the parent can never route, forward, re-queue or close it."""
    return lead.source == LeadSource.PARTNER


def _refuse_partners_own(lead: Lead):
    if _partners_own(lead):
        raise PermissionDenied("This lead is the partner's own: it stays with the partner that created it.")


def _offer(*, lead: Lead, partner: Partner, actor_user=None, rule=None) -> LeadOffer:
    _refuse_partners_own(lead)
    hours = partner.tier.lead_accept_hours if partner.tier_id else DEFAULT_ACCEPT_HOURS
    now = timezone.now()
    offer = LeadOffer.objects.create(
        lead=lead,
        partner=partner,
        offered_at=now,
        deadline=now + timedelta(hours=hours),
        offered_by=actor_user,
        rule=rule if getattr(rule, "pk", None) else None,
    )
    before = lead.status
    lead.status, lead.partner, lead.owner = LeadStatus.OFFERED, partner, None
    lead.save(update_fields=["status", "partner", "owner", "updated_at"])
    audit.record(
        actor=actor_user,
        verb="lead.offer",
        obj=lead,
        partner=partner,
        changes={
            "status": [before, lead.status],
            "partner": [None, partner.pk],
            "deadline": [None, str(offer.deadline)],
        },
        reason=f"rule: {rule.name}" if rule is not None else "forwarded by hand",
    )
    notices.lead_offered(offer)
    return offer


def _to_queue(lead: Lead, *, actor_user=None, reason=""):
    before = lead.status
    lead.status, lead.partner, lead.owner = LeadStatus.NEW, None, None
    lead.save(update_fields=["status", "partner", "owner", "updated_at"])
    audit.record(
        actor=actor_user,
        verb="lead.to_queue",
        obj=lead,
        partner=None,
        changes={"status": [before, lead.status]},
        reason=reason,
    )


def _route(lead: Lead, *, actor_user=None, rng=None):
    """Offer the lead to the next partner by the rules, or put it back in the parent's queue."""
    if _partners_own(lead):
        return None  # every path (task, periodic expiry, decline) leaves a partner's own lead alone
    rule, candidates = routing_candidates(lead)
    if not candidates:
        if lead.status != LeadStatus.NEW:
            _to_queue(lead, actor_user=actor_user, reason="No eligible partner left.")
        return None
    return _offer(lead=lead, partner=_pick(rule, candidates, rng), actor_user=actor_user, rule=rule)


def _lock_lead(lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _pending_offer(lead) -> LeadOffer | None:
    return LeadOffer.objects.select_for_update().filter(lead=lead, status=OfferStatus.PENDING).first()


@transaction.atomic
def lead_route(*, user, lead: Lead, rng=None) -> LeadOffer | None:
    """Route a lead from the parent's queue by the rules; None when no partner is eligible."""
    _require(permissions.can_route_leads(user), "You may not route leads.")
    lead = _lock_lead(lead)
    _refuse_partners_own(lead)
    if lead.status != LeadStatus.NEW:
        raise _illegal("lead", lead.status, LeadStatus.OFFERED)
    return _route(lead, actor_user=user, rng=rng)


@transaction.atomic
def lead_forward(*, user, lead: Lead, partner: Partner, reason: str = "") -> LeadOffer:
    """A channel manager offers a lead to one partner by hand (withdrawing a pending offer)."""
    actor = actor_of(user)
    _require(permissions.can_route_leads(user), "You may not forward leads.")
    if partner is None or not actor.may_see_partner(partner.pk):
        raise ValidationError({"partner": ["Choose one of your partners."]})
    if not Partner.objects.filter(pk=partner.pk, status=PartnerStatus.ACTIVE).exists():
        raise ValidationError({"partner": ["Leads go to active partners only."]})
    lead = _lock_lead(lead)
    _refuse_partners_own(lead)
    if not lead.can_transition_to(LeadStatus.OFFERED):
        raise _illegal("lead", lead.status, LeadStatus.OFFERED)
    if LeadOffer.objects.filter(lead=lead, partner=partner).exists():
        raise ValidationError({"partner": ["This partner was already offered this lead."]})
    pending = _pending_offer(lead)
    if pending is not None:
        pending.status, pending.responded_at, pending.responded_by = OfferStatus.WITHDRAWN, timezone.now(), user
        pending.save(update_fields=["status", "responded_at", "responded_by"])
    offer = _offer(lead=lead, partner=partner, actor_user=user)
    if reason:
        audit.record(actor=user, verb="lead.forward", obj=lead, partner=partner, reason=reason)
    return offer


@transaction.atomic
def lead_accept(*, user, lead: Lead) -> Opportunity:
    """The partner takes the lead: it becomes the partner's opportunity. An offered lead comes from
    the parent (flow: assigned to the partner); a partner's own lead is partner-managed."""
    lead = _lock_lead(lead)
    _require(permissions.can_answer_offer(user, lead), "Only the partner's sellers accept its leads.")
    if not lead.can_transition_to(LeadStatus.ACCEPTED) or lead.partner_id != actor_of(user).partner_id:
        raise _illegal("lead", lead.status, LeadStatus.ACCEPTED)
    now = timezone.now()
    flow = OpportunityFlow.PARTNER_MANAGED
    if lead.status == LeadStatus.OFFERED:
        offer = _pending_offer(lead)
        if offer is None or offer.partner_id != lead.partner_id:
            raise _illegal("lead", lead.status, LeadStatus.ACCEPTED)
        if offer.deadline <= now:
            raise ValidationError({"status": ["The offer's deadline has passed."]}, code="offer_expired")
        offer.status, offer.responded_at, offer.responded_by = OfferStatus.ACCEPTED, now, user
        offer.save(update_fields=["status", "responded_at", "responded_by"])
        flow = OpportunityFlow.ASSIGNED_TO_PARTNER
    before = lead.status
    lead.status, lead.owner, lead.accepted_at = LeadStatus.ACCEPTED, user, now
    lead.save(update_fields=["status", "owner", "accepted_at", "updated_at"])
    # One record per customer: the lead's account is one the partner already holds (by the deal
    # matcher's keys), or none yet; accepting a lead never creates or claims someone else's.
    from partners import identity

    key = identity.customer_key(name=lead.company_name, domain=lead.company_domain, country=lead.country)
    customer = next((c for c, _ in identity.matching_customers(key) if identity.held_by(c, lead.partner_id)), None)
    opportunity = Opportunity.objects.create(
        partner_id=lead.partner_id,
        flow=flow,
        managed_by=ManagedBy.PARTNER,
        name=f"{lead.company_name} ({lead.product_interest or 'lead'})"[:200],
        customer=customer,
        amount=Decimal("0.00"),
        probability=DEFAULT_PROBABILITY[OpportunityStage.QUALIFICATION],
        owner=user,
        registered_by=user,
        lead=lead,
    )
    audit.record(
        actor=user, verb="lead.accept", obj=lead, partner=lead.partner_id, changes={"status": [before, lead.status]}
    )
    audit.record(
        actor=user, verb="opportunity.create", obj=opportunity, partner=lead.partner_id, changes={"flow": flow}
    )
    return opportunity


@transaction.atomic
def lead_take(*, user, lead: Lead) -> Opportunity:
    """The parent takes a lead from its queue for its own direct sales (the seed: a lead is assigned
    to a partner or to the parent company): the lead is accepted by the parent and becomes a direct
    opportunity worked by the taker."""
    _require(permissions.can_take_leads(user), "Only the parent's sales side takes leads for direct sales.")
    lead = _lock_lead(lead)
    if lead.partner_id is not None or not lead.can_transition_to(LeadStatus.ACCEPTED):
        raise ValidationError(
            {"status": ["Only a lead waiting in the parent's queue can be taken for direct sales."]},
            code="illegal_transition",
        )
    before = lead.status
    lead.status, lead.owner, lead.accepted_at = LeadStatus.ACCEPTED, user, timezone.now()
    lead.save(update_fields=["status", "owner", "accepted_at", "updated_at"])
    from partners import identity

    key = identity.customer_key(name=lead.company_name, domain=lead.company_domain, country=lead.country)
    matches = identity.matching_customers(key)
    opportunity = Opportunity.objects.create(
        partner=None,
        flow=OpportunityFlow.DIRECT,
        managed_by=ManagedBy.PARENT,
        name=f"{lead.company_name} ({lead.product_interest or 'lead'})"[:200],
        customer=matches[0][0] if matches else None,
        amount=Decimal("0.00"),
        probability=DEFAULT_PROBABILITY[OpportunityStage.QUALIFICATION],
        owner=user,
        lead=lead,
    )
    audit.record(actor=user, verb="lead.take", obj=lead, partner=None, changes={"status": [before, lead.status]})
    audit.record(actor=user, verb="opportunity.create", obj=opportunity, partner=None, changes={"flow": "direct"})
    return opportunity


@transaction.atomic
def lead_decline(*, user, lead: Lead, reason: str, rng=None) -> Lead:
    """The partner declines with a reason; the lead goes to the next eligible partner (never this
    one again) or back to the parent's queue."""
    lead = _lock_lead(lead)
    _require(permissions.can_answer_offer(user, lead), "Only the partner's sellers answer its offers.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why you decline the lead."]})
    offer = _pending_offer(lead)
    if lead.status != LeadStatus.OFFERED or offer is None or offer.partner_id != actor_of(user).partner_id:
        raise _illegal("lead", lead.status, "declined")
    offer.status, offer.responded_at, offer.responded_by = OfferStatus.DECLINED, timezone.now(), user
    offer.decline_reason = reason.strip()[:300]
    offer.save(update_fields=["status", "responded_at", "responded_by", "decline_reason"])
    audit.record(actor=user, verb="lead.decline", obj=lead, partner=offer.partner_id, reason=offer.decline_reason)
    _route(lead, rng=rng)
    return lead


@transaction.atomic
def lead_disqualify(*, user, lead: Lead, reason: str) -> Lead:
    """Close a lead that is not a real opportunity: the parent's routers for leads in the queue or
    on offer (a pending offer is withdrawn), or a partner's sellers for the partner's own new lead."""
    lead = _lock_lead(lead)
    actor = actor_of(user)
    own_new = lead.status == LeadStatus.NEW and lead.partner_id is not None and lead.partner_id == actor.partner_id
    _require(
        (permissions.can_route_leads(user) and not _partners_own(lead)) or (own_new and permissions.can_sell(user)),
        "You may not disqualify this lead.",
    )
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the lead is disqualified."]})
    if not lead.can_transition_to(LeadStatus.DISQUALIFIED):
        raise _illegal("lead", lead.status, LeadStatus.DISQUALIFIED)
    pending = _pending_offer(lead)
    if pending is not None:
        pending.status, pending.responded_at, pending.responded_by = OfferStatus.WITHDRAWN, timezone.now(), user
        pending.save(update_fields=["status", "responded_at", "responded_by"])
    before = lead.status
    lead.status = LeadStatus.DISQUALIFIED
    lead.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=user,
        verb="lead.disqualify",
        obj=lead,
        partner=lead.partner_id,
        changes={"status": [before, lead.status]},
        reason=reason.strip(),
    )
    return lead


@transaction.atomic
def lead_offer_expire(*, offer_id: int, rng=None) -> bool:
    """System: an offer whose deadline passed is a miss against its partner; the lead moves on.
    Running it again for the same offer does nothing."""
    offer = LeadOffer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None or offer.status != OfferStatus.PENDING or offer.deadline > timezone.now():
        return False
    lead = Lead.objects.select_for_update().get(pk=offer.lead_id)
    offer.status, offer.responded_at = OfferStatus.EXPIRED, timezone.now()
    offer.save(update_fields=["status", "responded_at"])
    audit.record(actor=None, verb="lead.offer_missed", obj=lead, partner=offer.partner_id, reason="Deadline passed.")
    _route(lead, rng=rng)
    return True


def missed_offers(partner_ids) -> dict:
    """{partner id: number of offers it let expire}: the miss count shown to the parent."""
    from django.db.models import Count

    rows = (
        LeadOffer.objects.filter(partner_id__in=list(partner_ids), status=OfferStatus.EXPIRED)
        .values_list("partner_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


# Deal registration -------------------------------------------------------------------------------

REGISTRATION_FIELDS = (
    "customer",
    "customer_name",
    "customer_domain",
    "customer_country",
    "estimated_value",
    "currency",
    "expected_close_date",
    "notes",
    "contact_name",
    "contact_email",
    "competitor",
)


@dataclass
class Conflict:
    kind: str
    reasons: list
    detail: str
    registration: DealRegistration | None = None
    opportunity: Opportunity | None = None
    customer: Customer | None = None

    @property
    def blocks_approval_of(self):
        return self.registration


def _domain_q(path: str, domain: str) -> Q:
    if not domain:
        return Q(pk__in=[])
    return Q(**{path: domain}) | Q(**{f"{path}__endswith": "." + domain})


def registration_key(registration: DealRegistration, products=None) -> DealKey:
    if products is None:
        products = [line.product_id for line in registration.lines.all()]
    return DealKey(
        registration.customer_country, registration.normalized_name, registration.domain_key, frozenset(products)
    )


def find_conflicts(*, key: DealKey, partner_id, exclude_registration_id=None) -> list[Conflict]:
    """Everything the deal `key` of partner `partner_id` collides with: other partners' open and
    approved (still protected) registrations, the parent's own open opportunities, and customers
    owned by the parent or another partner (not those this partner already holds)."""
    found = []
    by_name_or_domain = Q(normalized_name=key.name) | (Q(domain_key=key.domain) if key.domain else Q(pk__in=[]))
    registrations = (
        DealRegistration.objects.filter(customer_country=key.country, status__in=OPEN_REGISTRATION_STATUSES)
        .filter(by_name_or_domain)
        .exclude(partner_id=partner_id)
        .select_related("partner")
        .prefetch_related("lines")
        .order_by("submitted_at", "pk")
    )
    if exclude_registration_id:
        registrations = registrations.exclude(pk=exclude_registration_id)
    for other in registrations:
        if other.status == RegistrationStatus.APPROVED and not other.is_protected:
            continue
        reasons = match_reasons(key, registration_key(other))
        if reasons:
            found.append(
                Conflict(
                    ConflictKind.REGISTRATION,
                    reasons,
                    f"{other.partner.name}: registration #{other.pk} for {other.customer_name} ({other.status})",
                    registration=other,
                )
            )
    customer_match = Q(customer__country=key.country) & (
        Q(customer__normalized_name=key.name) | (Q(customer__domain_key=key.domain) if key.domain else Q(pk__in=[]))
    )
    for opportunity in (
        Opportunity.objects.filter(partner__isnull=True, stage__in=OPEN_STAGES)
        .filter(customer_match)
        .select_related("customer")
    ):
        customer = opportunity.customer
        reasons = match_reasons(
            key, DealKey.of(name=customer.legal_name, domain=customer.domain, country=customer.country)
        )
        if reasons:
            found.append(
                Conflict(
                    ConflictKind.OPPORTUNITY,
                    reasons,
                    f"Direct opportunity #{opportunity.pk} '{opportunity.name}' ({opportunity.stage})",
                    opportunity=opportunity,
                )
            )
    held = CustomerRelationship.objects.filter(customer=OuterRef("pk"), partner_id=partner_id)
    customers = (
        Customer.objects.filter(country=key.country)
        .filter(Q(normalized_name=key.name) | (Q(domain_key=key.domain) if key.domain else Q(pk__in=[])))
        .exclude(Exists(held))
        .exclude(owner_partner_id=partner_id)
        .select_related("owner_partner")
    )
    for customer in customers:
        reasons = match_reasons(
            key, DealKey.of(name=customer.legal_name, domain=customer.domain, country=customer.country)
        )
        if reasons:
            owner = customer.owner_partner.name if customer.owner_partner_id else "the parent"
            found.append(
                Conflict(
                    ConflictKind.CUSTOMER,
                    reasons,
                    f"Customer #{customer.pk} {customer.legal_name}, owned by {owner}",
                    customer=customer,
                )
            )
    return found


def _lock_keys(key: DealKey):
    """Serialise every submission and approval about one customer (see RegistrationLock)."""
    keys = key.lock_keys()
    RegistrationLock.objects.bulk_create([RegistrationLock(key=k) for k in keys], ignore_conflicts=True)
    list(RegistrationLock.objects.select_for_update().filter(key__in=keys).order_by("key"))


def _validate_lines(user, lines) -> list[tuple]:
    if not lines:
        raise ValidationError({"lines": ["Add at least one product."]})
    ids = [getattr(line.get("product"), "pk", line.get("product")) for line in lines]
    products = {p.pk: p for p in Product.objects.for_user(user).filter(pk__in=[i for i in ids if isinstance(i, int)])}
    result, seen = [], set()
    for line in lines:
        product_id = getattr(line["product"], "pk", line["product"])
        quantity = line.get("quantity")
        if product_id not in products:
            raise ValidationError({"lines": [f"Product {product_id} does not exist."]})
        if product_id in seen:
            raise ValidationError({"lines": ["Name each product once."]})
        if not isinstance(quantity, int) or quantity < 1:
            raise ValidationError({"lines": ["Quantities are whole numbers of at least 1."]})
        seen.add(product_id)
        result.append((products[product_id], quantity))
    return result


def _set_lines(registration, lines):
    registration.lines.all().delete()
    DealRegistrationLine.objects.bulk_create(
        [
            DealRegistrationLine(registration=registration, partner_id=registration.partner_id, product=p, quantity=q)
            for p, q in lines
        ]
    )


def _check_close_date(fields):
    close = fields.get("expected_close_date")
    if close is not None and close < timezone.localdate():
        raise ValidationError({"expected_close_date": ["The expected close date is in the past."]})


def _fill_from_customer(fields):
    customer = fields.get("customer")
    if customer is not None:
        fields.setdefault("customer_name", customer.legal_name)
        fields.setdefault("customer_domain", customer.domain)
        fields.setdefault("customer_country", customer.country)
        for name in ("customer_name", "customer_country"):
            if not fields.get(name):
                fields[name] = getattr(customer, {"customer_name": "legal_name", "customer_country": "country"}[name])


@transaction.atomic
def deal_registration_create(*, user, lines, submit: bool = False, **fields) -> DealRegistration:
    """A partner's seller registers a prospective deal (a draft, or submitted at once)."""
    actor = actor_of(user)
    _require(permissions.can_register_deals(user), "Only a partner's sellers register deals.")
    unknown = set(fields) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    customer = fields.get("customer")
    if customer is not None and not Customer.objects.for_user(user).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": ["Choose one of your customers."]})
    _fill_from_customer(fields)
    _check_close_date(fields)
    checked = _validate_lines(user, lines)
    registration = DealRegistration(partner=actor.partner, created_by=user, **fields)
    if registration.estimated_value is not None:
        registration.estimated_value = _money(registration.estimated_value)
    registration.customer_country = (registration.customer_country or "").upper()
    registration.full_clean()
    registration.save()
    _set_lines(registration, checked)
    audit.record(
        actor=user,
        verb="deal_registration.create",
        obj=registration,
        changes={
            "customer_name": [None, registration.customer_name],
            "estimated_value": [None, str(registration.estimated_value)],
        },
    )
    if submit:
        registration = deal_registration_submit(user=user, registration=registration)
    return registration


@transaction.atomic
def deal_registration_update(*, user, registration: DealRegistration, lines=None, **fields) -> DealRegistration:
    _require(permissions.can_work_registration(user, registration), "Only the registering partner's sellers edit it.")
    unknown = set(fields) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    registration = DealRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.status not in EDITABLE_REGISTRATION_STATUSES:
        raise ValidationError({"status": [f"A {registration.status} registration cannot be edited."]})
    customer = fields.get("customer")
    if customer is not None and not Customer.objects.for_user(user).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": ["Choose one of your customers."]})
    _check_close_date(fields)
    checked = _validate_lines(user, lines) if lines is not None else None
    before = {name: getattr(registration, name) for name in fields}
    for name, value in fields.items():
        setattr(registration, name, value)
    registration.full_clean()
    registration.save()
    if checked is not None:
        _set_lines(registration, checked)
    audit.record(
        actor=user,
        verb="deal_registration.update",
        obj=registration,
        changes=audit.diff(before, {name: getattr(registration, name) for name in fields}),
    )
    return registration


def _record_conflicts(registration, conflicts):
    registration.conflicts.all().delete()
    RegistrationConflict.objects.bulk_create(
        [
            RegistrationConflict(
                registration=registration,
                partner_id=registration.partner_id,
                kind=c.kind,
                conflicting_registration=c.registration,
                conflicting_opportunity=c.opportunity,
                conflicting_customer=c.customer,
                reasons=c.reasons,
                detail=c.detail[:300],
            )
            for c in conflicts
        ]
    )


@transaction.atomic
def deal_registration_submit(*, user, registration: DealRegistration) -> DealRegistration:
    """Submit for review. The customer's keys are locked first, so of two simultaneous submissions
    for one customer exactly one is first; the later one is flagged as conflicting."""
    _require(permissions.can_work_registration(user, registration), "Only the registering partner's sellers submit it.")
    if actor_of(user).is_partner and not pre_check_allowed(user):
        # A submission answers has_conflict: the same question as the pre-check, so the same budget.
        raise RateLimited("Too many account checks and submissions; try again in a minute.")
    key = registration_key(DealRegistration.objects.get(pk=registration.pk))
    _lock_keys(key)
    registration = DealRegistration.objects.select_for_update().get(pk=registration.pk)
    if not registration.can_transition_to(RegistrationStatus.SUBMITTED):
        raise _illegal("registration", registration.status, RegistrationStatus.SUBMITTED)
    key = registration_key(registration)
    conflicts = find_conflicts(key=key, partner_id=registration.partner_id, exclude_registration_id=registration.pk)
    before = registration.status
    registration.status = RegistrationStatus.SUBMITTED
    registration.submitted_at = timezone.now()
    registration.has_conflict = bool(conflicts)
    registration.first_approved_by, registration.first_approved_at = None, None
    registration.save()
    _record_conflicts(registration, conflicts)
    audit.record(
        actor=user,
        verb="deal_registration.submit",
        obj=registration,
        changes={"status": [before, registration.status], "has_conflict": [None, registration.has_conflict]},
    )
    fraud.check_on_commit("registration_submitted", registration)
    notices.registration_submitted(registration)
    return registration


def _blocking(registration, conflicts) -> str | None:
    """First in wins: an approved, protected registration of the same deal, or one submitted
    earlier and still pending, blocks approval."""
    for conflict in conflicts:
        other = conflict.registration
        if other is None:
            continue
        if other.status == RegistrationStatus.APPROVED and other.is_protected:
            return (
                f"Conflicts with approved registration #{other.pk}, protected until {other.protected_until:%Y-%m-%d}."
            )
        if other.status == RegistrationStatus.SUBMITTED and (other.submitted_at, other.pk) < (
            registration.submitted_at,
            registration.pk,
        ):
            return f"Registration #{other.pk} for the same deal was submitted first and is still pending."
    return None


def _ensure_customer(registration) -> Customer:
    """The registration's customer: the one it names, else the existing account the matcher finds
    (one record per customer: never a duplicate), else a new one. Linking to an account the partner
    does not hold yet is reached only through an approver's override (see approval_conflicts)."""
    return _originated_customer(
        partner=registration.partner,
        customer=registration.customer,
        name=registration.customer_name,
        domain=registration.customer_domain,
        country=registration.customer_country,
        originator=registration.created_by,
        actor=None,
        reason=f"Registration #{registration.pk} approved.",
    )


def _originated_customer(*, partner, customer, name, domain, country, originator, actor, reason) -> Customer:
    """The customer a partner brought in: `customer` if given, else the account the matcher finds
    (the partner's own first), else a new one owned by the agreement's customer owner; always with the
    partner's originating relationship. Under a lock on the matcher's keys."""
    from partners import identity

    if customer is None:
        key = identity.customer_key(name=name, domain=domain, country=country)
        identity.lock_key(key)
        matches = identity.matching_customers(key)
        held = [c for c, _ in matches if identity.held_by(c, partner.pk)]
        customer = (held or [c for c, _ in matches] or [None])[0]
    if customer is None:
        customer = Customer(
            legal_name=name,
            domain=domain,
            country=country,
            owner_partner=None if partner.agreement.customer_owner == CustomerOwner.PARENT else partner,
            created_by=originator,
        )
        customer.refresh_keys()
        customer.full_clean(validate_constraints=False)
        identity.save_unique(customer)
        audit.record(actor=actor, verb="customer.create", obj=customer, partner=partner, reason=reason)
    CustomerRelationship.objects.get_or_create(
        customer=customer, partner=partner, kind=RelationshipKind.ORIGINATING, defaults={"owner": originator}
    )
    return customer


def approval_conflicts(conflicts) -> list[Conflict]:
    """Conflicts an approval may pass only with an approver's explicit override: an account held by
    the parent or another partner, or the parent's own open direct opportunity for it."""
    return [c for c in conflicts if c.kind in (ConflictKind.CUSTOMER, ConflictKind.OPPORTUNITY)]


def _close_superseded_direct(opportunities, *, user, registration, reason):
    """An override hands the deal to the partner: the parent's direct opportunity for the same
    customer closes (lost, superseded), so one sale is pursued once."""
    for opportunity in opportunities:
        opportunity = _lock_opportunity(opportunity)
        if not opportunity.is_open:
            continue
        opportunity.stage, opportunity.probability, opportunity.closed_at = (
            OpportunityStage.CLOSED_LOST,
            0,
            timezone.now(),
        )
        opportunity.lost_reason = f"Superseded by approved registration #{registration.pk} (override)."[:300]
        opportunity.save()
        audit.record(
            actor=user,
            verb="opportunity.superseded",
            obj=opportunity,
            partner=None,
            changes={"stage": [None, opportunity.stage]},
            reason=reason,
        )


@transaction.atomic
def deal_registration_approve(
    *, user, registration: DealRegistration, reason: str = "", override_conflicts: bool = False
) -> DealRegistration:
    """Approve (or, above the second-approval threshold, record the first of two approvals). On
    approval the protection window starts, the customer and the opportunity are created by the
    agreement's flow, and a referral fee accrues when the agreement pays one.

    A registration that conflicts with an account held by the parent or another partner, or with
    the parent's open direct pipeline, is refused (400 naming the conflicts) unless the approver
    overrides with a reason: the registration then links to the existing account (never a second
    record) and the parent's direct opportunity for it closes as superseded."""
    _require(permissions.can_review_registrations(user), "You may not approve registrations.")
    _lock_keys(registration_key(DealRegistration.objects.get(pk=registration.pk)))
    registration = (
        DealRegistration.objects.select_for_update(of=("self",))
        .select_related("partner__tier", "partner__agreement")
        .get(pk=registration.pk)
    )
    if not registration.can_transition_to(RegistrationStatus.APPROVED):
        raise _illegal("registration", registration.status, RegistrationStatus.APPROVED)
    conflicts = find_conflicts(
        key=registration_key(registration), partner_id=registration.partner_id, exclude_registration_id=registration.pk
    )
    blocked = _blocking(registration, conflicts)
    if blocked:
        raise ValidationError({"status": [blocked]}, code="conflict")
    overridden = approval_conflicts(conflicts)
    if overridden and not override_conflicts:
        raise ValidationError(
            {
                "override_conflicts": [
                    "This registration conflicts with: "
                    + "; ".join(c.detail for c in overridden)
                    + ". Approve with override_conflicts and a reason, or reject it."
                ]
            },
            code="conflict",
        )
    if overridden and not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the conflict is overridden."]})
    now = timezone.now()
    if registration.estimated_value > second_approval_threshold():
        if registration.first_approved_by_id is None:
            registration.first_approved_by, registration.first_approved_at = user, now
            registration.save(update_fields=["first_approved_by", "first_approved_at", "updated_at"])
            audit.record(actor=user, verb="deal_registration.first_approval", obj=registration, reason=reason)
            return registration
        if registration.first_approved_by_id == user.pk:
            raise PermissionDenied("A second approver, other than the first, must approve this registration.")
    partner = registration.partner
    days = partner.tier.protection_days if partner.tier_id else DEFAULT_PROTECTION_DAYS
    before = registration.status
    registration.status = RegistrationStatus.APPROVED
    registration.decided_by, registration.decided_at, registration.decision_reason = user, now, reason
    registration.approved_at = now
    registration.protected_until = now + timedelta(days=days)
    if overridden:
        registration.customer = registration.customer or next((c.customer for c in overridden if c.customer), None)
        audit.record(
            actor=user,
            verb="deal_registration.override",
            obj=registration,
            changes={"conflicts": [None, [c.detail for c in overridden]]},
            reason=reason,
        )
        _close_superseded_direct(
            [c.opportunity for c in overridden if c.opportunity is not None],
            user=user,
            registration=registration,
            reason=reason,
        )
    registration.customer = _ensure_customer(registration)
    registration.save()
    agreement = partner.agreement
    handed = agreement.customer_owner == CustomerOwner.PARENT
    opportunity = Opportunity.objects.create(
        partner=partner,
        flow=OpportunityFlow.HANDED_TO_PARENT if handed else OpportunityFlow.PARTNER_MANAGED,
        managed_by=ManagedBy.PARENT if handed else ManagedBy.PARTNER,
        name=f"{registration.customer_name} (registration #{registration.pk})"[:200],
        customer=registration.customer,
        amount=registration.estimated_value,
        currency=registration.currency,
        probability=DEFAULT_PROBABILITY[OpportunityStage.QUALIFICATION],
        expected_close_date=registration.expected_close_date,
        owner=None if handed else registration.created_by,
        registered_by=registration.created_by,
        registration=registration,
    )
    audit.record(
        actor=user,
        verb="deal_registration.approve",
        obj=registration,
        changes={"status": [before, registration.status], "protected_until": [None, str(registration.protected_until)]},
        reason=reason,
    )
    audit.record(
        actor=user, verb="opportunity.create", obj=opportunity, partner=partner, changes={"flow": opportunity.flow}
    )
    notices.registration_decided(registration)
    if agreement.commission_model == CommissionModel.ON_REFERRAL and agreement.referral_fee > 0:
        ledger.commission_accrue(
            partner=partner,
            source=CommissionSource.REFERRAL,
            source_ref=f"deal-registration:{registration.pk}",
            amount=agreement.referral_fee,
            actor=user,
            customer=registration.customer,
            description=f"Referral fee: {registration.customer_name}",
            currency=registration.currency,
        )
    return registration


def _decide(*, user, registration, status, reason, verb, allowed):
    _require(allowed, "You may not do this to the registration.")
    registration = DealRegistration.objects.select_for_update().get(pk=registration.pk)
    if not registration.can_transition_to(status):
        raise _illegal("registration", registration.status, status)
    before = registration.status
    registration.status = status
    registration.decision_reason = reason
    if status in (RegistrationStatus.REJECTED, RegistrationStatus.RETURNED):
        registration.decided_by, registration.decided_at = user, timezone.now()
    registration.save()
    audit.record(actor=user, verb=verb, obj=registration, changes={"status": [before, status]}, reason=reason)
    if status in (RegistrationStatus.REJECTED, RegistrationStatus.RETURNED):
        notices.registration_decided(registration)
    return registration


def _reason(reason, what):
    if not (reason or "").strip():
        raise ValidationError({"reason": [f"Say why the registration is {what}."]})
    return reason.strip()


@transaction.atomic
def deal_registration_reject(*, user, registration, reason: str) -> DealRegistration:
    allowed = permissions.can_review_registrations(user)
    _require(allowed, "You may not reject registrations.")
    return _decide(
        user=user,
        registration=registration,
        status=RegistrationStatus.REJECTED,
        reason=_reason(reason, "rejected"),
        verb="deal_registration.reject",
        allowed=allowed,
    )


@transaction.atomic
def deal_registration_return(*, user, registration, reason: str) -> DealRegistration:
    allowed = permissions.can_review_registrations(user)
    _require(allowed, "You may not return registrations.")
    return _decide(
        user=user,
        registration=registration,
        status=RegistrationStatus.RETURNED,
        reason=_reason(reason, "returned"),
        verb="deal_registration.return",
        allowed=allowed,
    )


@transaction.atomic
def deal_registration_withdraw(*, user, registration, reason: str = "") -> DealRegistration:
    return _decide(
        user=user,
        registration=registration,
        status=RegistrationStatus.WITHDRAWN,
        reason=reason or "",
        verb="deal_registration.withdraw",
        allowed=permissions.can_work_registration(user, registration),
    )


@transaction.atomic
def deal_registration_cancel(*, user, registration, reason: str) -> DealRegistration:
    """End an approved registration's protection early (the parent, or the partner's admin)."""
    actor = actor_of(user)
    allowed = permissions.can_review_registrations(user) or (
        actor.is_partner_admin and registration.partner_id == actor.partner_id
    )
    _require(allowed, "You may not cancel this registration.")
    return _decide(
        user=user,
        registration=registration,
        status=RegistrationStatus.CANCELLED,
        reason=_reason(reason, "cancelled"),
        verb="deal_registration.cancel",
        allowed=allowed,
    )


def _close_registration(registration_id, status, *, user):
    registration = DealRegistration.objects.select_for_update().filter(pk=registration_id).first()
    if registration is None or not registration.can_transition_to(status):
        return  # Expired or cancelled before the close: its outcome no longer moves it.
    before = registration.status
    registration.status = status
    registration.save(update_fields=["status", "updated_at"])
    audit.record(actor=user, verb=f"deal_registration.{status}", obj=registration, changes={"status": [before, status]})


@transaction.atomic
def deal_registration_expire(*, registration_id: int) -> bool:
    """System: an approved registration past its protection window, neither won nor lost, expires.
    Running it twice has one effect."""
    registration = DealRegistration.objects.select_for_update().filter(pk=registration_id).first()
    if (
        registration is None
        or registration.status != RegistrationStatus.APPROVED
        or registration.protected_until > timezone.now()
    ):
        return False
    registration.status = RegistrationStatus.EXPIRED
    registration.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=None,
        verb="deal_registration.expire",
        obj=registration,
        changes={"status": [RegistrationStatus.APPROVED, RegistrationStatus.EXPIRED]},
    )
    return True


# Set-based expiry: one batch is one transaction of a few statements, whatever its size.
EXPIRY_BATCH = 1000


def _due_batch(queryset, limit):
    # SKIP LOCKED: a registration a user is approving or closing right now waits for the next run.
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .order_by("protected_until", "pk")
        .values_list("pk", "partner_id", "customer_name", "protected_until", "created_by_id")[:limit]
    )


@transaction.atomic
def deal_registrations_expire_due(*, now=None, limit: int = EXPIRY_BATCH) -> int:
    """System, set-based: expire up to `limit` approved registrations past their protection window
    in one UPDATE, with one audit event each (one INSERT). Returns how many; running it again finds
    them expired and does nothing."""
    now = now or timezone.now()
    due = _due_batch(
        DealRegistration.objects.filter(status=RegistrationStatus.APPROVED, protected_until__lte=now), limit
    )
    if not due:
        return 0
    DealRegistration.objects.filter(pk__in=[row[0] for row in due], status=RegistrationStatus.APPROVED).update(
        status=RegistrationStatus.EXPIRED, updated_at=now
    )
    audit.record_many(
        actor=None,
        verb="deal_registration.expire",
        model=DealRegistration,
        rows=[(pk, partner_id, f"Registration {pk}: {name}") for pk, partner_id, name, _, _ in due],
        changes={"status": [RegistrationStatus.APPROVED, RegistrationStatus.EXPIRED]},
    )
    return len(due)


@transaction.atomic
def deal_registrations_warn_due(*, now=None, limit: int = EXPIRY_BATCH) -> int:
    """System, set-based: mark up to `limit` registrations whose protection ends within the warning
    window as warned (one UPDATE, one audit INSERT) and mail each registering user after commit."""
    now = now or timezone.now()
    due = _due_batch(
        DealRegistration.objects.filter(
            status=RegistrationStatus.APPROVED,
            protected_until__gt=now,
            protected_until__lte=now + timedelta(days=EXPIRY_WARNING_DAYS),
            expiry_warned_at__isnull=True,
        ),
        limit,
    )
    if not due:
        return 0
    DealRegistration.objects.filter(pk__in=[row[0] for row in due], expiry_warned_at__isnull=True).update(
        expiry_warned_at=now, updated_at=now
    )
    audit.record_many(
        actor=None,
        verb="deal_registration.expiry_warning",
        model=DealRegistration,
        rows=[(pk, partner_id, f"Registration {pk}: {name}") for pk, partner_id, name, _, _ in due],
    )
    notices.registrations_expiring(due)
    return len(due)


@transaction.atomic
def deal_registration_warn_expiry(*, registration_id: int) -> bool:
    """System: tell the registering partner 14 days before protection ends; once per window."""
    registration = (
        DealRegistration.objects.select_for_update(of=("self",))
        .select_related("created_by")
        .filter(pk=registration_id)
        .first()
    )
    now = timezone.now()
    if (
        registration is None
        or registration.status != RegistrationStatus.APPROVED
        or registration.expiry_warned_at is not None
        or not (now < registration.protected_until <= now + timedelta(days=EXPIRY_WARNING_DAYS))
    ):
        return False
    registration.expiry_warned_at = now
    registration.save(update_fields=["expiry_warned_at", "updated_at"])
    audit.record(actor=None, verb="deal_registration.expiry_warning", obj=registration)
    notices.registration_expiring(
        registration_id=registration.pk,
        partner_id=registration.partner_id,
        customer_name=registration.customer_name,
        protected_until=registration.protected_until,
        registered_by_id=registration.created_by_id,
    )
    return True


@transaction.atomic
def deal_registration_request_extension(*, user, registration, days: int, reason: str) -> RegistrationExtension:
    _require(permissions.can_work_registration(user, registration), "Only the registering partner asks for extensions.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why you need more time."]})
    if not isinstance(days, int) or not 1 <= days <= 180:
        raise ValidationError({"days": ["Between 1 and 180 days."]})
    registration = DealRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != RegistrationStatus.APPROVED:
        raise ValidationError({"status": ["Only an approved registration can be extended."]})
    existing = list(registration.extensions.all())
    if any(e.status == ExtensionStatus.PENDING for e in existing):
        raise ValidationError({"non_field_errors": ["An extension request is already pending."]})
    if len(existing) >= MAX_EXTENSIONS:
        raise ValidationError({"non_field_errors": [f"At most {MAX_EXTENSIONS} extensions may be requested."]})
    extension = RegistrationExtension.objects.create(
        registration=registration,
        partner_id=registration.partner_id,
        sequence=len(existing) + 1,
        days=days,
        reason=reason.strip()[:300],
        requested_by=user,
    )
    audit.record(
        actor=user,
        verb="deal_registration.request_extension",
        obj=registration,
        changes={"days": [None, days]},
        reason=reason,
    )
    return extension


@transaction.atomic
def deal_registration_decide_extension(
    *, user, registration, approve: bool = True, reason: str = ""
) -> RegistrationExtension:
    _require(permissions.can_review_registrations(user), "Only the parent decides extensions.")
    registration = DealRegistration.objects.select_for_update().get(pk=registration.pk)
    extension = registration.extensions.select_for_update().filter(status=ExtensionStatus.PENDING).first()
    if extension is None:
        raise ValidationError({"non_field_errors": ["There is no pending extension request."]})
    if approve and registration.status != RegistrationStatus.APPROVED:
        raise ValidationError({"status": ["Only an approved registration can be extended."]})
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    extension.decided_by, extension.decided_at = user, timezone.now()
    extension.save()
    if approve:
        before = registration.protected_until
        registration.protected_until = before + timedelta(days=extension.days)
        registration.expiry_warned_at = None
        registration.save(update_fields=["protected_until", "expiry_warned_at", "updated_at"])
        audit.record(
            actor=user,
            verb="deal_registration.extend",
            obj=registration,
            changes={"protected_until": [str(before), str(registration.protected_until)]},
            reason=reason,
        )
    else:
        audit.record(actor=user, verb="deal_registration.extension_rejected", obj=registration, reason=reason)
    notices.extension_decided(extension, registration)
    return extension


def _precheck_rate() -> tuple[int, int]:
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("precheck") or "30/minute"
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[:1]]
    return int(count), seconds


def pre_check_allowed(user) -> bool:
    """A per-user counter in the cache, shared by the API and the portal."""
    limit, seconds = _precheck_rate()
    key = f"deals:precheck:{user.pk}"
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=seconds)
        count = 1
    return count <= limit


def deal_registration_pre_check(
    *, user, customer_name: str, customer_domain: str = "", customer_country: str, products=()
) -> bool:
    """Is this account open for registration? True or False, nothing else: not whose, not why.
    Audited; the caller rate-limits with pre_check_allowed."""
    actor = actor_of(user)
    _require(permissions.can_register_deals(user), "Only a partner's sellers check accounts.")
    key = DealKey.of(name=customer_name, domain=customer_domain, country=customer_country, products=products)
    available = not find_conflicts(key=key, partner_id=actor.partner_id)
    audit.record(
        actor=user,
        verb="deal_registration.pre_check",
        obj=actor.partner,
        partner=actor.partner,
        changes={
            "customer_name": customer_name[:200],
            "customer_domain": customer_domain[:253],
            "country": customer_country,
            "available": available,
        },
    )
    return available


# Opportunities -----------------------------------------------------------------------------------

OPPORTUNITY_FIELDS = (
    "name",
    "amount",
    "probability",
    "expected_close_date",
    "stage",
    "customer",
    "currency",
    "prospect_name",
    "prospect_domain",
    "prospect_country",
)


@transaction.atomic
def opportunity_create(*, user, name, amount, customer=None, owner: str | None = None, **fields) -> Opportunity:
    """Parent sales record direct opportunities; a partner's seller records its own, which the
    agreement either hands to the parent (customer owned by the parent) or leaves with the partner."""
    actor = actor_of(user)
    _require(permissions.can_create_opportunity(user), "You may not create opportunities.")
    unknown = set(fields) - set(OPPORTUNITY_FIELDS)
    if unknown:
        raise ValidationError({n: ["Unknown field."] for n in sorted(unknown)})
    if customer is not None and not Customer.objects.for_user(user).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": ["Choose one of your customers."]})
    stage = fields.pop("stage", OpportunityStage.QUALIFICATION)
    if stage not in OPEN_STAGES:
        raise ValidationError({"stage": ["A new opportunity starts in an open stage."]})
    opportunity = Opportunity(name=name, amount=_money(amount), customer=customer, stage=stage, **fields)
    if opportunity.probability is None or "probability" not in fields:
        opportunity.probability = DEFAULT_PROBABILITY[OpportunityStage(stage)]
    if actor.is_parent:
        opportunity.flow, opportunity.managed_by, opportunity.owner = OpportunityFlow.DIRECT, ManagedBy.PARENT, user
    else:
        opportunity.partner, opportunity.registered_by = actor.partner, user
        if actor.agreement.customer_owner == CustomerOwner.PARENT:
            opportunity.flow, opportunity.managed_by = OpportunityFlow.HANDED_TO_PARENT, ManagedBy.PARENT
        else:
            opportunity.flow, opportunity.managed_by, opportunity.owner = (
                OpportunityFlow.PARTNER_MANAGED,
                ManagedBy.PARTNER,
                user,
            )
    if owner is not None:
        if not permissions.can_edit_opportunity(user, opportunity):
            raise ValidationError({"owner": ["The parent assigns the owner of an opportunity handed to it."]})
        opportunity.owner = _owner_for(opportunity, owner)
    opportunity.full_clean()
    opportunity.save()
    audit.record(
        actor=user,
        verb="opportunity.create",
        obj=opportunity,
        partner=opportunity.partner_id,
        changes={"flow": opportunity.flow},
    )
    return opportunity


def _lock_opportunity(opportunity):
    return (
        Opportunity.objects.select_for_update(of=("self",)).select_related("partner__agreement").get(pk=opportunity.pk)
    )


def _owner_for(opportunity, username: str):
    """The person who will work the opportunity, from the side that manages it: a parent staff
    member, or an active member of the attributed partner. Unknown and not-allowed read the same."""
    from django.contrib.auth import get_user_model

    from partners.models import Membership

    if opportunity.managed_by == ManagedBy.PARENT:
        owner = (
            get_user_model()
            .objects.filter(username=username, is_active=True, is_staff=True, membership__isnull=True)
            .first()
        )
    else:
        membership = (
            Membership.objects.for_partner(opportunity.partner_id)
            .filter(user__username=username, is_active=True, user__is_active=True)
            .select_related("user")
            .first()
        )
        owner = membership.user if membership else None
    if owner is None:
        raise ValidationError({"owner": ["Choose one of the people who manage this opportunity."]})
    return owner


@transaction.atomic
def opportunity_update(*, user, opportunity, owner: str | None = None, **fields) -> Opportunity:
    """Change stage (open stages only), amount, probability, close date, name, or the owner."""
    _require(permissions.can_edit_opportunity(user, opportunity), "You do not manage this opportunity.")
    unknown = set(fields) - set(OPPORTUNITY_FIELDS)
    if unknown:
        raise ValidationError({n: ["Unknown field."] for n in sorted(unknown)})
    opportunity = _lock_opportunity(opportunity)
    if owner is not None:
        fields["owner"] = _owner_for(opportunity, owner)
    if not opportunity.is_open:
        raise ValidationError({"stage": ["A closed opportunity cannot be changed."]})
    stage = fields.get("stage")
    if stage is not None and stage != opportunity.stage:
        if stage not in OPEN_STAGES:
            raise ValidationError({"stage": ["Close it with mark-won or mark-lost."]})
        if not opportunity.can_transition_to(stage):
            raise _illegal("opportunity", opportunity.stage, stage)
        fields.setdefault("probability", DEFAULT_PROBABILITY[OpportunityStage(stage)])
    if "amount" in fields:
        fields["amount"] = _money(fields["amount"])
    before = {name: getattr(opportunity, name) for name in fields}
    for name, value in fields.items():
        setattr(opportunity, name, value)
    opportunity.full_clean()
    opportunity.save()
    audit.record(
        actor=user,
        verb="opportunity.update",
        obj=opportunity,
        partner=opportunity.partner_id,
        changes=audit.diff(before, {name: getattr(opportunity, name) for name in fields}),
    )
    return opportunity


@transaction.atomic
def opportunity_mark_won(*, user, opportunity, amount=None) -> Opportunity:
    """Close as won. The registration it came from is won, and the attributed partner (whoever
    manages the record) accrues its percentage when the agreement pays on close."""
    _require(permissions.can_edit_opportunity(user, opportunity), "You do not manage this opportunity.")
    opportunity = _lock_opportunity(opportunity)
    if not opportunity.can_transition_to(OpportunityStage.CLOSED_WON):
        raise _illegal("opportunity", opportunity.stage, OpportunityStage.CLOSED_WON)
    if amount is not None:
        opportunity.amount = bounds.money(amount, Opportunity, "amount")
    if opportunity.amount <= 0:
        raise ValidationError({"amount": ["A won opportunity has an amount."]})
    before = opportunity.stage
    opportunity.stage, opportunity.probability, opportunity.closed_at = OpportunityStage.CLOSED_WON, 100, timezone.now()
    opportunity.save()
    audit.record(
        actor=user,
        verb="opportunity.won",
        obj=opportunity,
        partner=opportunity.partner_id,
        changes={"stage": [before, opportunity.stage], "amount": [None, str(opportunity.amount)]},
    )
    if opportunity.registration_id:
        _close_registration(opportunity.registration_id, RegistrationStatus.WON, user=user)
    if opportunity.customer_id is None and opportunity.partner_id and opportunity.prospect_name:
        _customer_for_won_prospect(opportunity, user=user)
    # A win accrues its percentage on the fulfilled orders' value (fulfilment accrues the same key
    # when an order is fulfilled later); a win without an order accrues it only once finance verifies
    # it. A referral's fixed fee is earned when the parent itself wins the referred business.
    fulfilled = fulfilled_orders_for_opportunity(opportunity).aggregate(total=Sum("total"))["total"]
    if fulfilled:
        _accrue_win(opportunity, base=fulfilled, user=user, what="Closed deal (fulfilled orders)")
    elif (
        actor_of(user).is_parent
        and opportunity.partner_id
        and opportunity.partner.agreement.commission_model == CommissionModel.ON_REFERRAL
    ):
        _accrue_win(opportunity, user=user)
    fraud.check_on_commit("opportunity_won", opportunity)
    return opportunity


def _customer_for_won_prospect(opportunity, *, user):
    """A won opportunity for a prospect (a referral entered as an opportunity) gets its customer like
    an approved referral registration."""
    partner = opportunity.partner
    customer = _originated_customer(
        partner=partner,
        customer=None,
        name=opportunity.prospect_name,
        domain=opportunity.prospect_domain,
        country=(opportunity.prospect_country or partner.country or "").upper(),
        originator=opportunity.registered_by,
        actor=user,
        reason=f"Opportunity #{opportunity.pk} won.",
    )
    opportunity.customer = customer
    opportunity.save(update_fields=["customer", "updated_at"])


def _accrue_win(opportunity, *, base=None, user=None, what="Closed deal"):
    """One sale, one commission, keyed on the opportunity whichever path won it (a close, an order's
    fulfilment, finance's verification): a percentage of `base` (default: the won amount) when the
    agreement pays on close; the referral fee when it pays on referral and no approved registration
    paid it already."""
    base = opportunity.amount if base is None else base
    partner = opportunity.partner
    if partner is None:
        return None
    agreement = partner.agreement
    if agreement.commission_model == CommissionModel.ON_CLOSE and agreement.commission_rate > 0:
        entry, _ = ledger.commission_accrue(
            partner=partner,
            source=CommissionSource.CLOSED_DEAL,
            source_ref=f"opportunity:{opportunity.pk}",
            amount=ledger.percentage(base, agreement.commission_rate),
            base_amount=base,
            rate=agreement.commission_rate,
            actor=user,
            customer=opportunity.customer,
            description=f"{what}: {opportunity.name}",
            currency=opportunity.currency,
        )
        return entry
    if (
        agreement.commission_model == CommissionModel.ON_REFERRAL
        and agreement.referral_fee > 0
        and opportunity.registration_id is None
    ):
        entry, _ = ledger.commission_accrue(
            partner=partner,
            source=CommissionSource.REFERRAL,
            source_ref=f"opportunity:{opportunity.pk}",
            amount=agreement.referral_fee,
            actor=user,
            customer=opportunity.customer,
            description=f"Referral fee: {opportunity.name}",
            currency=opportunity.currency,
        )
        return entry
    return None


@transaction.atomic
def opportunity_win_by_order(*, order) -> Opportunity:
    """System, on an order's fulfilment: the order proves the sale. Its opportunity closes as won at
    the order's value (and its registration as won); an order placed without one gets one, so that
    every sale is keyed on an opportunity and accrues one commission. Safe to run twice."""
    from quotes.models import Order

    if order.opportunity_id is None:
        partner = order.partner
        handed = partner.agreement.customer_owner == CustomerOwner.PARENT
        seller = order.created_by if order.created_by_id and not order.placed_by_parent else None
        opportunity = Opportunity.objects.create(
            partner=partner,
            flow=OpportunityFlow.HANDED_TO_PARENT if handed else OpportunityFlow.PARTNER_MANAGED,
            managed_by=ManagedBy.PARENT if handed else ManagedBy.PARTNER,
            name=f"Order {order.number} for {order.customer}"[:200],
            customer=order.customer,
            amount=order.total,
            currency=order.currency,
            owner=None if handed else seller,
            registered_by=seller,
            order_placed_at=timezone.now(),
        )
        Order.objects.filter(pk=order.pk).update(opportunity=opportunity)
        order.opportunity = opportunity
        audit.record(
            actor=None,
            verb="opportunity.create",
            obj=opportunity,
            partner=partner,
            changes={"flow": opportunity.flow},
            reason=f"Order {order.number} was placed without an opportunity.",
        )
    opportunity = _lock_opportunity(order.opportunity)
    if opportunity.is_open:
        before = opportunity.stage
        opportunity.amount = _money(order.total)
        opportunity.customer = opportunity.customer or order.customer
        opportunity.stage, opportunity.probability = OpportunityStage.CLOSED_WON, 100
        opportunity.closed_at = timezone.now()
        opportunity.order_placed_at = opportunity.order_placed_at or opportunity.closed_at
        opportunity.save()
        audit.record(
            actor=None,
            verb="opportunity.won",
            obj=opportunity,
            partner=opportunity.partner_id,
            changes={"stage": [before, opportunity.stage], "amount": [None, str(opportunity.amount)]},
            reason=f"Order {order.number} fulfilled.",
        )
        if opportunity.registration_id:
            _close_registration(opportunity.registration_id, RegistrationStatus.WON, user=None)
    if opportunity.stage == OpportunityStage.CLOSED_WON:
        fulfilled = fulfilled_orders_for_opportunity(opportunity).aggregate(total=Sum("total"))["total"]
        _accrue_win(opportunity, base=fulfilled or None, what="Closed deal (fulfilled orders)")
    return opportunity


@transaction.atomic
def opportunity_verify_win(*, user, opportunity, reason: str = ""):
    """Finance verifies a partner's win that has no order (e.g. against the signed contract): only
    then does its on-close commission accrue, on the won amount. Returns the commission or None."""
    _require(permissions.can_manage_commissions(user), "Only the parent's finance team verifies wins.")
    opportunity = _lock_opportunity(opportunity)
    if opportunity.stage != OpportunityStage.CLOSED_WON or opportunity.partner_id is None:
        raise ValidationError({"stage": ["Only a partner's won opportunity is verified."]})
    if live_orders_for_opportunity(opportunity).exists():
        raise ValidationError({"non_field_errors": ["This win has an order: it accrues when the order is fulfilled."]})
    audit.record(
        actor=user, verb="opportunity.win_verified", obj=opportunity, partner=opportunity.partner_id, reason=reason
    )
    return _accrue_win(opportunity, user=user, what="Closed deal (verified by finance)")


@transaction.atomic
def opportunity_mark_lost(*, user, opportunity, reason: str) -> Opportunity:
    _require(permissions.can_edit_opportunity(user, opportunity), "You do not manage this opportunity.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the opportunity was lost."]})
    opportunity = _lock_opportunity(opportunity)
    if not opportunity.can_transition_to(OpportunityStage.CLOSED_LOST):
        raise _illegal("opportunity", opportunity.stage, OpportunityStage.CLOSED_LOST)
    before = opportunity.stage
    opportunity.stage, opportunity.probability, opportunity.closed_at = OpportunityStage.CLOSED_LOST, 0, timezone.now()
    opportunity.lost_reason = reason.strip()[:300]
    opportunity.save()
    audit.record(
        actor=user,
        verb="opportunity.lost",
        obj=opportunity,
        partner=opportunity.partner_id,
        changes={"stage": [before, opportunity.stage]},
        reason=reason,
    )
    if opportunity.registration_id:
        _close_registration(opportunity.registration_id, RegistrationStatus.LOST, user=user)
    return opportunity


@transaction.atomic
def opportunity_assign(*, user, opportunity, partner: Partner, reason: str = "") -> Opportunity:
    """Pass one of the parent's direct opportunities to a partner (e.g. for its presence in a region)."""
    actor = actor_of(user)
    _require(permissions.can_assign_opportunity(user, opportunity), "You may not assign opportunities.")
    if (
        partner is None
        or not actor.may_see_partner(partner.pk)
        or not Partner.objects.filter(pk=partner.pk, status=PartnerStatus.ACTIVE).exists()
    ):
        raise ValidationError({"partner": ["Choose one of your active partners."]})
    opportunity = _lock_opportunity(opportunity)
    if opportunity.flow != OpportunityFlow.DIRECT or not opportunity.is_open:
        raise ValidationError({"flow": ["Only an open direct opportunity can be passed to a partner."]})
    opportunity.partner, opportunity.flow, opportunity.managed_by, opportunity.owner = (
        partner,
        OpportunityFlow.ASSIGNED_TO_PARTNER,
        ManagedBy.PARTNER,
        None,
    )
    opportunity.save()
    audit.record(
        actor=user,
        verb="opportunity.assign",
        obj=opportunity,
        partner=partner,
        changes={"partner": [None, partner.pk]},
        reason=reason,
    )
    return opportunity


@transaction.atomic
def opportunity_mark_order_placed(*, user, opportunity) -> Opportunity:
    """Called when an order is placed for the opportunity (e.g. by quotes): from then on a parent
    whose agreement sees the pipeline only after an order sees it. Idempotent."""
    opportunity = _lock_opportunity(opportunity)
    if opportunity.order_placed_at is None:
        opportunity.order_placed_at = timezone.now()
        opportunity.save(update_fields=["order_placed_at", "updated_at"])
        audit.record(actor=user, verb="opportunity.order_placed", obj=opportunity, partner=opportunity.partner_id)
    return opportunity
