"""One record per customer: the deal matcher's keys applied to the customer base.

Every path by which a customer can arise (a partner's or the parent's create, a registration's
approval, a lead's acceptance, the demo) asks `matching_customers` first, under `lock_key`, so two
requests for one customer run one after the other; the unique keys on Customer back this up.
"""

from django.db.models import Q


def customer_key(*, name: str, domain: str = "", country: str = ""):
    """The deal matcher's key (country, normalised name, registrable domain) for a customer."""
    from deals.matching import DealKey

    return DealKey.of(name=name, domain=domain, country=country)


def matching_customers(key, *, exclude_pk=None) -> list:
    """[(customer, reasons)] of existing customers that are the same account as `key`: same
    country, and the same normalised name or the same registrable domain."""
    from deals.matching import DealKey, match_reasons

    from .models import Customer

    if not key.country or not (key.name or key.domain):
        return []
    same = Q(normalized_name=key.name) if key.name else Q(pk__in=[])
    if key.domain:
        same |= Q(domain_key=key.domain)
    found = []
    rows = Customer.objects.filter(country=key.country).filter(same).select_related("owner_partner").order_by("pk")
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    for customer in rows:
        reasons = match_reasons(key, DealKey(customer.country, customer.normalized_name, customer.domain_key))
        if reasons:
            found.append((customer, reasons))
    return found


def lock_key(key) -> None:
    """Serialise every transaction about one customer: row locks on its keys (the same lock rows
    deal registration uses, so a registration's approval and a customer's creation queue too)."""
    from deals.models import RegistrationLock

    keys = key.lock_keys()
    RegistrationLock.objects.bulk_create([RegistrationLock(key=k) for k in keys], ignore_conflicts=True)
    list(RegistrationLock.objects.select_for_update().filter(key__in=keys).order_by("key"))


def held_by(customer, partner_id) -> bool:
    from .models import CustomerRelationship

    return customer.owner_partner_id == partner_id or (
        CustomerRelationship.objects.filter(customer=customer, partner_id=partner_id).exists()
    )


def save_unique(customer) -> None:
    """Save; if a concurrent request slipped the same account in (the unique keys), say so as a 400."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"legal_name": ["This customer exists already in the channel."]}, code="duplicate_customer"
        ) from exc


def customer_matched(*, actor, user, customer, matches):
    """What a create does when the account exists: a partner gets the record it already holds, or
    its request becomes a claim for the parent (never a second record); parent staff get a 400."""
    from django.core.exceptions import ValidationError

    from . import audit
    from .models import Customer, CustomerClaim, CustomerClaimStatus

    if actor.is_partner:
        for existing, _reasons in matches:
            if held_by(existing, actor.partner_id):
                existing.already_held = True  # the caller's own record: nothing was created
                return existing
        existing, reasons = matches[0]
        claim = CustomerClaim.objects.filter(
            partner=actor.partner, matched_customer=existing, status=CustomerClaimStatus.PENDING
        ).first()
        if claim is None:
            claim = CustomerClaim.objects.create(
                partner=actor.partner,
                requested_by=user,
                legal_name=customer.legal_name,
                domain=customer.domain,
                country=customer.country,
                matched_customer=existing,
                reasons=reasons,
            )
            audit.record(actor=user, verb="customer_claim.create", obj=claim, partner=actor.partner, changes={})
        return claim
    existing, _reasons = matches[0]
    visible = Customer.objects.for_user(user).filter(pk=existing.pk).exists()
    named = f" (#{existing.pk} {existing.legal_name})" if visible else ""
    raise ValidationError(
        {"legal_name": [f"This customer exists already{named}; one account is one record."]},
        code="duplicate_customer",
    )


def _decide_claim(*, user, claim, reason, status, link=False):
    """The parent's decision on a claim: link the partner to the existing account (an originating
    relationship, managed by the partner user who asked; the customer stays one record) or reject."""
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.db import transaction
    from django.utils import timezone

    from . import audit
    from .access import ParentRole, actor_of
    from .models import CustomerClaim, CustomerClaimStatus, CustomerRelationship, RelationshipKind

    actor = actor_of(user)
    if not (
        actor.is_parent
        and actor.has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES)
        and actor.may_see_partner(claim.partner_id)
    ):
        raise PermissionDenied("Only the parent's channel managers and sales decide customer claims.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why."]})
    with transaction.atomic():
        claim = CustomerClaim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != CustomerClaimStatus.PENDING:
            raise ValidationError({"status": [f"This claim is {claim.status} already."]}, code="illegal_transition")
        if link:
            CustomerRelationship.objects.get_or_create(
                customer_id=claim.matched_customer_id,
                partner_id=claim.partner_id,
                kind=RelationshipKind.ORIGINATING,
                defaults={"owner": claim.requested_by},
            )
        claim.status, claim.decided_by, claim.decided_at = status, user, timezone.now()
        claim.decision_reason = reason.strip()
        claim.save()
        audit.record(
            actor=user,
            verb=f"customer_claim.{'link' if link else 'reject'}",
            obj=claim,
            partner=claim.partner_id,
            changes={"status": [CustomerClaimStatus.PENDING, status]},
            reason=claim.decision_reason,
        )
    return claim


def customer_claim_link(*, user, claim, reason: str):
    from .models import CustomerClaimStatus

    return _decide_claim(user=user, claim=claim, reason=reason, status=CustomerClaimStatus.LINKED, link=True)


def customer_claim_reject(*, user, claim, reason: str):
    from .models import CustomerClaimStatus

    return _decide_claim(user=user, claim=claim, reason=reason, status=CustomerClaimStatus.REJECTED)
