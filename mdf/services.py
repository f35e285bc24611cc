"""Every write to marketing funds, campaigns and collateral.

Money: an allocation's balance (amount − committed − paid − expired) and a request's remainder
(approved − reserved − paid − released) are database constraints; every function that moves money
locks the rows it changes in one order (allocation, then request, then claim), re-reads them, checks,
and writes. Approving a request commits funds; submitting a claim reserves its reimbursable amount on
the request; paying moves it from committed to paid; closing, cancelling, rejecting and partial
approvals give back what is no longer needed (to the balance, or to `expired` once the program has)."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from analytics import holds
from partners import audit, uploads
from partners.access import ParentRole, PartnerRole, actor_of
from partners.models import Partner, PartnerStatus, ProductLine

from . import permissions, signals
from .models import (
    INVOICE_HOLDING,
    ZERO,
    AllocationMethod,
    AllocationStatus,
    Asset,
    AssetDownload,
    AssetVersion,
    Campaign,
    CampaignOwner,
    ClaimFile,
    DownloadFormat,
    FundAllocation,
    FundClaim,
    FundClaimStatus,
    FundProgram,
    FundRequest,
    FundRequestStatus,
    LeadHandling,
    ProofKind,
    TierFund,
)

CENT = Decimal("0.01")
MAX_PROOF_BYTES = getattr(settings, "MDF_MAX_PROOF_BYTES", 10 * 1024 * 1024)
DEFAULT_CLAIM_DAYS = 60
EXPIRY_WARNING_DAYS = 30


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _require(condition: bool, message: str):
    if not condition:
        raise PermissionDenied(message)


def _illegal(kind, current, target):
    return ValidationError({"status": [f"A {kind} cannot move from '{current}' to '{target}'."]}, code="illegal")


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [f"Say why the {what}."]})
    return reason


def _today():
    return timezone.localdate()


def _lock_allocation(pk) -> FundAllocation:
    return FundAllocation.objects.select_for_update().select_related("program").get(pk=pk)


def _lock_request(pk) -> FundRequest:
    return FundRequest.objects.select_for_update(of=("self",)).select_related("allocation__program").get(pk=pk)


def _lock_claim(pk) -> FundClaim:
    return FundClaim.objects.select_for_update(of=("self",)).get(pk=pk)


def _partner_people(partner_id, *, users=()):
    from partners.notifications import partner_recipients

    return partner_recipients(partner_id, roles=[PartnerRole.ADMIN, PartnerRole.MARKETING], users=users)


def _notify(**kwargs):
    from partners.notifications import notify

    return notify(**kwargs)


# Programs and allocations ------------------------------------------------------------------------


def _check_budget(program: FundProgram, extra: Decimal, exclude_pk=None):
    """Allocations of a program never add up to more than its budget (program row locked)."""
    allocated = (
        FundAllocation.objects.filter(program=program)
        .exclude(pk=exclude_pk)
        .exclude(status=AllocationStatus.PROPOSED)
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    if allocated + extra > program.budget:
        left = program.budget - allocated
        raise ValidationError({"amount": [f"The program's budget has {left} left; this needs {extra}."]})


@transaction.atomic
def fund_allocation_create(*, user, program: FundProgram, partner: Partner, amount, method=AllocationMethod.FIXED):
    _require(permissions.can_manage_funds(user), "You may not allocate funds.")
    _require(actor_of(user).may_see_partner(partner.pk), "You may not allocate funds to this partner.")
    amount = _money(amount)
    if amount < 0:
        raise ValidationError({"amount": ["An allocation cannot be negative."]})
    program = FundProgram.objects.select_for_update().get(pk=program.pk)
    if FundAllocation.objects.filter(program=program, partner=partner).exists():
        raise ValidationError({"partner": ["This partner already has an allocation in this program."]})
    _check_budget(program, amount)
    allocation = FundAllocation.objects.create(
        program=program,
        partner=partner,
        amount=amount,
        method=method,
        status=AllocationStatus.ACTIVE,
        approved_by=user,
        approved_at=timezone.now(),
    )
    audit.record(actor=user, verb="mdf.allocation.create", obj=allocation, changes={"amount": [None, str(amount)]})
    return allocation


@transaction.atomic
def fund_allocation_adjust(*, user, allocation: FundAllocation, amount, reason: str = "") -> FundAllocation:
    """Change an allocation's amount; it cannot drop below what is already committed and paid."""
    _require(permissions.can_manage_funds(user), "You may not change allocations.")
    amount = _money(amount)
    FundProgram.objects.select_for_update().get(pk=allocation.program_id)
    allocation = _lock_allocation(allocation.pk)
    if allocation.status == AllocationStatus.EXPIRED:
        raise ValidationError({"status": ["An expired allocation cannot change."]})
    used = allocation.committed + allocation.paid + allocation.expired
    if amount < used:
        raise ValidationError({"amount": [f"At least {used} is already committed or paid."]})
    if allocation.status == AllocationStatus.ACTIVE:
        _check_budget(allocation.program, amount, exclude_pk=allocation.pk)
    before = allocation.amount
    allocation.amount = amount
    allocation.save(update_fields=["amount", "updated_at"])
    audit.record(
        actor=user,
        verb="mdf.allocation.adjust",
        obj=allocation,
        changes={"amount": [str(before), str(amount)]},
        reason=reason,
    )
    return allocation


@transaction.atomic
def fund_allocations_by_tier(*, user, program: FundProgram) -> list[FundAllocation]:
    """Bulk allocation: every active partner of a tier with a fixed amount in the program gets it
    (partners that already have an allocation are left as they are)."""
    _require(permissions.can_manage_funds(user), "You may not allocate funds.")
    amounts = {tf.tier_id: tf.amount for tf in TierFund.objects.filter(program=program)}
    created = []
    partners = Partner.objects.for_user(user).filter(status=PartnerStatus.ACTIVE, tier_id__in=list(amounts))
    for partner in partners.exclude(fund_allocations__program=program).order_by("pk"):
        created.append(
            fund_allocation_create(user=user, program=program, partner=partner, amount=amounts[partner.tier_id])
        )
    return created


def previous_period(program: FundProgram) -> tuple[datetime.date, datetime.date]:
    length = program.ends_on - program.starts_on
    end = program.starts_on - datetime.timedelta(days=1)
    return end - length, end


@transaction.atomic
def fund_accrual_compute(*, program_id: int, partner_id: int) -> FundAllocation | None:
    """Propose an accrued allocation: the program's % of the partner's fulfilled order revenue in the
    previous period. Idempotent: a partner's allocation in the program is computed once."""
    from quotes.models import Order, OrderStatus

    program = FundProgram.objects.filter(pk=program_id).first()
    if program is None or program.accrual_percent <= 0:
        return None
    if FundAllocation.objects.filter(program=program, partner_id=partner_id).exists():
        return None
    start, end = previous_period(program)
    revenue = (
        Order.objects.for_partner(partner_id)
        .filter(status=OrderStatus.FULFILLED, fulfilled_at__date__gte=start, fulfilled_at__date__lte=end)
        .aggregate(total=Sum("total"))["total"]
        or ZERO
    )
    amount = _money(revenue * program.accrual_percent / 100)
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            allocation = FundAllocation.objects.create(
                program=program,
                partner_id=partner_id,
                method=AllocationMethod.ACCRUAL,
                status=AllocationStatus.PROPOSED,
                amount=amount,
                accrual_basis=_money(revenue),
            )
    except IntegrityError:
        return None  # computed concurrently
    audit.record(actor=None, verb="mdf.allocation.accrue", obj=allocation, changes={"amount": [None, str(amount)]})
    return allocation


@transaction.atomic
def fund_allocation_approve(*, user, allocation: FundAllocation) -> FundAllocation:
    """The parent approves a proposed (accrued) allocation; it must fit the program's budget."""
    _require(permissions.can_manage_funds(user), "You may not approve allocations.")
    program = FundProgram.objects.select_for_update().get(pk=allocation.program_id)
    allocation = _lock_allocation(allocation.pk)
    if allocation.status != AllocationStatus.PROPOSED:
        raise _illegal("allocation", allocation.status, AllocationStatus.ACTIVE)
    _check_budget(program, allocation.amount)
    allocation.status = AllocationStatus.ACTIVE
    allocation.approved_by, allocation.approved_at = user, timezone.now()
    allocation.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    audit.record(actor=user, verb="mdf.allocation.approve", obj=allocation)
    return allocation


@transaction.atomic
def fund_allocation_expire(*, allocation_id: int, today=None) -> bool:
    """After the program's end plus its grace period, what is not committed or paid expires.
    Committed funds stay for the approved requests' claims; what they give back later expires too."""
    today = today or _today()
    allocation = FundAllocation.objects.select_for_update().select_related("program").filter(pk=allocation_id).first()
    if allocation is None or allocation.status != AllocationStatus.ACTIVE or allocation.program.expires_on >= today:
        return False
    lapsed = allocation.balance
    allocation.expired += lapsed
    allocation.status = AllocationStatus.EXPIRED
    allocation.save(update_fields=["expired", "status", "updated_at"])
    audit.record(actor=None, verb="mdf.allocation.expire", obj=allocation, changes={"expired": [None, str(lapsed)]})
    return True


@transaction.atomic
def fund_allocation_warn_expiry(*, allocation_id: int, today=None) -> bool:
    """Tell the partner once, 30 days before, that unclaimed funds are about to expire."""
    today = today or _today()
    allocation = FundAllocation.objects.select_for_update().select_related("program").filter(pk=allocation_id).first()
    if allocation is None or allocation.status != AllocationStatus.ACTIVE or allocation.expiry_warned_at:
        return False
    expires_on = allocation.program.expires_on
    if not (today <= expires_on <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)):
        return False
    unclaimed = allocation.balance + allocation.committed
    if unclaimed <= 0:
        return False
    allocation.expiry_warned_at = timezone.now()
    allocation.save(update_fields=["expiry_warned_at", "updated_at"])
    _notify(
        recipients=_partner_people(allocation.partner_id),
        kind="mdf.funds_expiring",
        key=f"mdf.allocation.{allocation.pk}.expiring",
        title=f"{unclaimed} of marketing funds expire on {expires_on:%Y-%m-%d}",
        body=f"Request and claim your {allocation.program.name} funds before {expires_on:%Y-%m-%d}; "
        f"what is unclaimed then expires.",
        url=reverse("mdf:home"),
    )
    return True


def _release(request: FundRequest, allocation: FundAllocation, amount: Decimal):
    """Give back committed funds of a closed or cancelled request (both rows locked by the caller)."""
    if amount <= 0:
        return
    request.released += amount
    allocation.committed -= amount
    if allocation.status == AllocationStatus.EXPIRED:
        allocation.expired += amount
    allocation.save(update_fields=["committed", "expired", "updated_at"])


# Fund requests -----------------------------------------------------------------------------------

REQUEST_FIELDS = (
    "title",
    "activity_type",
    "plan",
    "starts_on",
    "ends_on",
    "requested_amount",
    "expected_leads",
    "expected_pipeline",
    "uses_own_materials",
)


def _check_request_fields(actor, fields):
    errors = {}
    if fields.get("starts_on") and fields.get("ends_on") and fields["ends_on"] < fields["starts_on"]:
        errors["ends_on"] = ["The activity cannot end before it starts."]
    if fields.get("requested_amount") is not None and _money(fields["requested_amount"]) <= 0:
        errors["requested_amount"] = ["Ask for a positive amount."]
    if fields.get("uses_own_materials") and not permissions.may_use_own_materials_under(
        permissions.marketing_model(actor)
    ):
        errors["uses_own_materials"] = [
            "Your agreement lets you use only the parent's collateral (co-branded); you cannot request funds "
            "for your own materials."
        ]
    if errors:
        raise ValidationError(errors)


def _allocation_for(actor, starts_on, allocation=None) -> FundAllocation:
    candidates = FundAllocation.objects.for_partner(actor.partner_id).filter(status=AllocationStatus.ACTIVE)
    if allocation is not None:
        found = candidates.filter(pk=allocation.pk).first()
    else:
        found = (
            candidates.filter(program__starts_on__lte=starts_on, program__ends_on__gte=starts_on).first()
            or candidates.order_by("-program__ends_on").first()
        )
    if found is None:
        raise ValidationError({"allocation": ["You have no active fund allocation for this period."]})
    return found


@transaction.atomic
def fund_request_create(*, user, allocation=None, product_lines=(), submit: bool = False, **fields) -> FundRequest:
    actor = actor_of(user)
    _require(permissions.can_request_funds(user), "Your role or marketing model does not let you request funds.")
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    _check_request_fields(actor, fields)
    allocation = _allocation_for(actor, fields.get("starts_on") or _today(), allocation)
    fund_request = FundRequest(partner=actor.partner, allocation=allocation, created_by=user, **fields)
    fund_request.requested_amount = _money(fund_request.requested_amount)
    fund_request.full_clean(exclude=["product_lines"])
    fund_request.save()
    fund_request.product_lines.set(_product_lines(product_lines))
    audit.record(actor=user, verb="mdf.request.create", obj=fund_request)
    if submit:
        fund_request = fund_request_submit(user=user, fund_request=fund_request)
    return fund_request


def _product_lines(values):
    ids = [getattr(v, "pk", v) for v in values]
    found = list(ProductLine.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"product_lines": ["Choose existing product lines."]})
    return found


@transaction.atomic
def fund_request_update(*, user, fund_request: FundRequest, product_lines=None, **fields) -> FundRequest:
    _require(permissions.can_edit_own(user, fund_request), "You may not change this request.")
    fund_request = _lock_request(fund_request.pk)
    if fund_request.status not in (FundRequestStatus.DRAFT, FundRequestStatus.RETURNED):
        raise ValidationError({"status": ["Only draft and returned requests can be changed."]})
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    merged = {name: getattr(fund_request, name) for name in REQUEST_FIELDS} | fields
    _check_request_fields(actor_of(user), merged)
    before = {name: getattr(fund_request, name) for name in fields}
    for name, value in fields.items():
        setattr(fund_request, name, value)
    fund_request.requested_amount = _money(fund_request.requested_amount)
    fund_request.full_clean(exclude=["product_lines"])
    fund_request.save()
    if product_lines is not None:
        fund_request.product_lines.set(_product_lines(product_lines))
    audit.record(actor=user, verb="mdf.request.update", obj=fund_request, changes=audit.diff(before, fields))
    return fund_request


@transaction.atomic
def fund_request_submit(*, user, fund_request: FundRequest) -> FundRequest:
    _require(permissions.can_edit_own(user, fund_request), "You may not submit this request.")
    actor = actor_of(user)
    _require(
        permissions.may_request_funds_under(permissions.marketing_model(actor)),
        "Your marketing model does not let you request funds.",
    )
    fund_request = _lock_request(fund_request.pk)
    if not fund_request.can_transition_to(FundRequestStatus.SUBMITTED):
        raise _illegal("request", fund_request.status, FundRequestStatus.SUBMITTED)
    _check_request_fields(actor, {"uses_own_materials": fund_request.uses_own_materials})
    if fund_request.allocation.status != AllocationStatus.ACTIVE:
        raise ValidationError({"allocation": ["The fund allocation is no longer active."]})
    fund_request.status = FundRequestStatus.SUBMITTED
    fund_request.submitted_at = timezone.now()
    fund_request.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(actor=user, verb="mdf.request.submit", obj=fund_request)
    from partners.notifications import parent_recipients

    _notify(
        recipients=parent_recipients(roles=[ParentRole.MARKETING], partner_id=fund_request.partner_id),
        kind="mdf.request_submitted",
        key=f"mdf.request.{fund_request.pk}.submitted.{fund_request.submitted_at.isoformat()}",
        title=f"Fund request {fund_request.reference} from {fund_request.partner.name}",
        body=f"{fund_request.title}: {fund_request.requested_amount} requested.",
        url=reverse("mdf:request-detail", args=[fund_request.pk]),
    )
    return fund_request


def _tell_partner_decided(fund_request, what: str):
    _notify(
        recipients=_partner_people(fund_request.partner_id, users=[fund_request.created_by]),
        kind="mdf.request_decided",
        key=f"mdf.request.{fund_request.pk}.{fund_request.status}.{fund_request.decided_at.isoformat()}",
        title=f"Fund request {fund_request.reference} {what}",
        body=fund_request.decision_reason,
        url=reverse("mdf:request-detail", args=[fund_request.pk]),
    )


@transaction.atomic
def fund_request_approve(
    *,
    user,
    fund_request: FundRequest,
    amount=None,
    reimbursement_percent=Decimal("100"),
    claim_deadline=None,
    reason: str = "",
) -> FundRequest:
    """Approve (possibly for less than asked, with a co-op reimbursement % and a claim deadline);
    commits the approved amount of the partner's allocation."""
    _require(permissions.can_decide_requests(user, fund_request.partner_id), "You may not decide fund requests.")
    allocation = _lock_allocation(fund_request.allocation_id)
    fund_request = _lock_request(fund_request.pk)
    if not fund_request.can_transition_to(FundRequestStatus.APPROVED) or fund_request.status != "submitted":
        raise _illegal("request", fund_request.status, FundRequestStatus.APPROVED)
    amount = fund_request.requested_amount if amount in (None, "") else _money(amount)
    percent = _money(reimbursement_percent if reimbursement_percent not in (None, "") else 100)
    errors = {}
    if amount <= 0:
        errors["amount"] = ["Approve a positive amount, or reject the request."]
    elif amount > fund_request.requested_amount:
        errors["amount"] = [f"At most the requested {fund_request.requested_amount} can be approved."]
    elif amount > allocation.balance:
        errors["amount"] = [f"The partner's balance is {allocation.balance}."]
    if not (Decimal("0") < percent <= Decimal("100")):
        errors["reimbursement_percent"] = ["Use a percentage above 0 and at most 100."]
    if allocation.status != AllocationStatus.ACTIVE:
        errors["allocation"] = ["The fund allocation is no longer active."]
    deadline = claim_deadline or min(
        fund_request.ends_on + datetime.timedelta(days=DEFAULT_CLAIM_DAYS), allocation.program.expires_on
    )
    if deadline < fund_request.ends_on or deadline < _today():
        errors["claim_deadline"] = ["The claim deadline must be after the activity ends and not in the past."]
    if errors:
        raise ValidationError(errors)
    if amount < fund_request.requested_amount:
        reason = _reason(reason, "request is approved for less than asked")
    allocation.committed += amount
    allocation.save(update_fields=["committed", "updated_at"])
    fund_request.status = FundRequestStatus.APPROVED
    fund_request.approved_amount, fund_request.reimbursement_percent = amount, percent
    fund_request.claim_deadline = deadline
    fund_request.decided_by, fund_request.decided_at, fund_request.decision_reason = user, timezone.now(), reason
    fund_request.save()
    audit.record(
        actor=user,
        verb="mdf.request.approve",
        obj=fund_request,
        changes={"approved_amount": [None, str(amount)], "reimbursement_percent": [None, str(percent)]},
        reason=reason,
    )
    _tell_partner_decided(fund_request, f"approved for {amount}")
    return fund_request


def _decide(*, user, fund_request, status, reason, verb, what):
    _require(permissions.can_decide_requests(user, fund_request.partner_id), "You may not decide fund requests.")
    fund_request = _lock_request(fund_request.pk)
    if fund_request.status != FundRequestStatus.SUBMITTED or not fund_request.can_transition_to(status):
        raise _illegal("request", fund_request.status, status)
    reason = _reason(reason, f"request is {what}")
    fund_request.status = status
    fund_request.decided_by, fund_request.decided_at, fund_request.decision_reason = user, timezone.now(), reason
    fund_request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    audit.record(actor=user, verb=verb, obj=fund_request, reason=reason)
    _tell_partner_decided(fund_request, what)
    return fund_request


@transaction.atomic
def fund_request_reject(*, user, fund_request: FundRequest, reason: str) -> FundRequest:
    return _decide(
        user=user, fund_request=fund_request, status=FundRequestStatus.REJECTED, reason=reason,
        verb="mdf.request.reject", what="rejected",
    )  # fmt: skip


@transaction.atomic
def fund_request_return(*, user, fund_request: FundRequest, reason: str) -> FundRequest:
    return _decide(
        user=user, fund_request=fund_request, status=FundRequestStatus.RETURNED, reason=reason,
        verb="mdf.request.return", what="returned for changes",
    )  # fmt: skip


@transaction.atomic
def fund_request_cancel(*, user, fund_request: FundRequest, reason: str = "") -> FundRequest:
    """The partner withdraws its request, or the parent's marketing cancels an approved one; committed
    funds go back, as long as no claim is pending or paid on it."""
    own = permissions.can_edit_own(user, fund_request)
    _require(own or permissions.can_decide_requests(user, fund_request.partner_id), "You may not cancel this request.")
    allocation = _lock_allocation(fund_request.allocation_id)
    fund_request = _lock_request(fund_request.pk)
    if not fund_request.can_transition_to(FundRequestStatus.CANCELLED):
        raise _illegal("request", fund_request.status, FundRequestStatus.CANCELLED)
    if fund_request.status == FundRequestStatus.APPROVED:
        if fund_request.reserved > 0 or fund_request.paid_amount > 0:
            raise ValidationError({"status": ["Claims are pending or paid on this request; it cannot be cancelled."]})
        _release(fund_request, allocation, fund_request.remainder)
    fund_request.status = FundRequestStatus.CANCELLED
    fund_request.decision_reason = reason or fund_request.decision_reason
    fund_request.save()
    audit.record(actor=user, verb="mdf.request.cancel", obj=fund_request, reason=reason)
    return fund_request


@transaction.atomic
def fund_request_close(*, request_id: int, today=None) -> bool:
    """After the claim deadline, what no claim holds goes back (a task; safe to run twice)."""
    today = today or _today()
    found = FundRequest.objects.filter(pk=request_id).values_list("allocation_id", flat=True).first()
    if found is None:
        return False
    allocation = _lock_allocation(found)
    fund_request = _lock_request(request_id)
    if fund_request.status != FundRequestStatus.APPROVED or fund_request.claim_deadline >= today:
        return False
    _release(fund_request, allocation, fund_request.remainder)
    fund_request.status = FundRequestStatus.CLOSED
    fund_request.save(update_fields=["status", "released", "updated_at"])
    audit.record(actor=None, verb="mdf.request.close", obj=fund_request)
    return True


# Claims ------------------------------------------------------------------------------------------


def normalize_key(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def _earlier_invoice_claim(vendor: str, invoice_number: str, exclude_pk=None) -> FundClaim | None:
    # Across every partner on purpose (a duplicate invoice is fraud wherever it was claimed); only the
    # earlier claim's reference is ever shown.
    return (
        FundClaim.objects.filter(  # scope-lint: ok
            vendor_key=normalize_key(vendor), invoice_key=normalize_key(invoice_number), status__in=INVOICE_HOLDING
        )
        .exclude(pk=exclude_pk)
        .order_by("pk")
        .first()
    )


def _duplicate_invoice_error(earlier: FundClaim) -> ValidationError:
    return ValidationError(
        {"invoice_number": [f"This vendor's invoice was already claimed ({earlier.reference})."]},
        code="duplicate_invoice",
    )


def reimbursable_for(fund_request: FundRequest, amount) -> Decimal:
    """min(claimed × the request's reimbursement %, the request's remainder)."""
    share = _money(Decimal(amount) * fund_request.reimbursement_percent / 100)
    return max(ZERO, min(share, fund_request.remainder))


CLAIM_FIELDS = ("vendor", "invoice_number", "invoice_date", "amount", "description")


def _check_claimable(fund_request: FundRequest, today=None):
    today = today or _today()
    if fund_request.status != FundRequestStatus.APPROVED:
        raise ValidationError({"fund_request": ["Claims are made against an approved request."]})
    if fund_request.claim_deadline and today > fund_request.claim_deadline:
        raise ValidationError(
            {"fund_request": [f"The claim deadline ({fund_request.claim_deadline:%Y-%m-%d}) has passed."]}
        )


def _check_claim_fields(fields, fund_request):
    errors = {}
    if "amount" in fields and (fields["amount"] is None or _money(fields["amount"]) <= 0):
        errors["amount"] = ["Claim a positive amount."]
    if fields.get("invoice_date") and fields["invoice_date"] > _today():
        errors["invoice_date"] = ["The invoice date cannot be in the future."]
    for name in ("vendor", "invoice_number"):
        if name in fields and not normalize_key(fields[name]):
            errors[name] = ["This field is required."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def fund_claim_create(*, user, fund_request: FundRequest, files=(), submit: bool = False, **fields) -> FundClaim:
    """A claim against an approved request, before its deadline, with its proof of performance."""
    _require(permissions.can_claim(user, fund_request), "You may not claim funds on this request.")
    unknown = set(fields) - set(CLAIM_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    _check_claimable(fund_request)
    _check_claim_fields(fields, fund_request)
    earlier = _earlier_invoice_claim(fields.get("vendor", ""), fields.get("invoice_number", ""))
    if earlier is not None:
        raise _duplicate_invoice_error(earlier)
    claim = FundClaim(partner_id=fund_request.partner_id, fund_request=fund_request, created_by=user, **fields)
    claim.amount = _money(claim.amount)
    claim.vendor_key, claim.invoice_key = normalize_key(claim.vendor), normalize_key(claim.invoice_number)
    claim.full_clean()
    claim.save()
    audit.record(actor=user, verb="mdf.claim.create", obj=claim, changes={"amount": [None, str(claim.amount)]})
    for item in files:
        upload, kind = item if isinstance(item, tuple) else (item, ProofKind.INVOICE)
        fund_claim_file_add(user=user, claim=claim, file=upload, kind=kind)
    if submit:
        claim = fund_claim_submit(user=user, claim=claim)
    return claim


@transaction.atomic
def fund_claim_update(*, user, claim: FundClaim, **fields) -> FundClaim:
    _require(permissions.can_edit_own(user, claim), "You may not change this claim.")
    claim = _lock_claim(claim.pk)
    if claim.status not in (FundClaimStatus.DRAFT, FundClaimStatus.RETURNED):
        raise ValidationError({"status": ["Only draft and returned claims can be changed."]})
    unknown = set(fields) - set(CLAIM_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    _check_claim_fields(fields, claim.fund_request)
    before = {name: getattr(claim, name) for name in fields}
    for name, value in fields.items():
        setattr(claim, name, value)
    claim.amount = _money(claim.amount)
    claim.vendor_key, claim.invoice_key = normalize_key(claim.vendor), normalize_key(claim.invoice_number)
    earlier = _earlier_invoice_claim(claim.vendor, claim.invoice_number, exclude_pk=claim.pk)
    if earlier is not None:
        raise _duplicate_invoice_error(earlier)
    claim.full_clean()
    claim.save()
    audit.record(actor=user, verb="mdf.claim.update", obj=claim, changes=audit.diff(before, fields))
    return claim


@transaction.atomic
def fund_claim_file_add(*, user, claim: FundClaim, file, kind: str = ProofKind.INVOICE) -> ClaimFile:
    """Proof of performance, checked like case attachments (size, type); a file already claimed
    anywhere in the channel (same SHA-256) is refused, naming only the earlier claim."""
    _require(permissions.can_edit_own(user, claim), "You may not add files to this claim.")
    claim = _lock_claim(claim.pk)  # not while it is being submitted
    if claim.status not in (FundClaimStatus.DRAFT, FundClaimStatus.RETURNED):
        raise ValidationError({"file": ["Files can be added while the claim is a draft or returned."]})
    if kind not in ProofKind.values:
        raise ValidationError({"kind": ["Choose invoice, photo, attendees, screenshot or other."]})
    content_type = uploads.validate_upload(file, max_bytes=MAX_PROOF_BYTES)
    digest = uploads.sha256_hex(file)
    earlier = ClaimFile.objects.filter(sha256=digest).select_related("claim").first()  # scope-lint: ok
    if earlier is not None:
        raise _duplicate_file_error(earlier, claim)
    name = uploads.upload_name(file)
    proof = ClaimFile(
        claim=claim,
        partner_id=claim.partner_id,
        kind=kind,
        uploaded_by=user,
        filename=name,
        content_type=content_type,
        size=file.size,
        sha256=digest,
    )
    proof.file.save(name, file, save=False)
    try:
        with transaction.atomic():
            proof.save()
    except IntegrityError:
        proof.file.delete(save=False)
        earlier = ClaimFile.objects.filter(sha256=digest).select_related("claim").first()  # scope-lint: ok
        raise _duplicate_file_error(earlier, claim)
    audit.record(actor=user, verb="mdf.claim.attach", obj=claim, changes={"file": [None, name], "sha256": digest})
    return proof


def _duplicate_file_error(earlier, claim) -> ValidationError:
    where = "this claim" if earlier is None or earlier.claim_id == claim.pk else earlier.claim.reference
    return ValidationError({"file": [f"This file was already claimed ({where})."]}, code="duplicate_file")


@transaction.atomic
def fund_claim_submit(*, user, claim: FundClaim) -> FundClaim:
    """Submit a claim for review: it reserves min(amount × %, remainder) of the request. Then the
    `claim_submitted` signal runs the hooks that watch claims (the analytics app's fraud rules)."""
    _require(permissions.can_edit_own(user, claim), "You may not submit this claim.")
    fund_request = _lock_request(claim.fund_request_id)
    claim = _lock_claim(claim.pk)
    if not claim.can_transition_to(FundClaimStatus.SUBMITTED):
        raise _illegal("claim", claim.status, FundClaimStatus.SUBMITTED)
    _check_claimable(fund_request)
    if not claim.files.exists():
        raise ValidationError({"file": ["Add proof of performance (an invoice, photos, attendee lists) first."]})
    earlier = _earlier_invoice_claim(claim.vendor, claim.invoice_number, exclude_pk=claim.pk)
    if earlier is not None:
        raise _duplicate_invoice_error(earlier)
    reimbursable = reimbursable_for(fund_request, claim.amount)
    if reimbursable <= 0:
        raise ValidationError({"amount": ["Nothing is left to claim on this request."]})
    fund_request.reserved += reimbursable
    fund_request.save(update_fields=["reserved", "updated_at"])
    claim.status = FundClaimStatus.SUBMITTED
    claim.reimbursable_amount = reimbursable
    claim.submitted_at = timezone.now()
    try:
        with transaction.atomic():
            claim.save(update_fields=["status", "reimbursable_amount", "submitted_at", "updated_at"])
    except IntegrityError:
        # Another claim took the same invoice at the same moment: the unique constraint decided.
        raise _duplicate_invoice_error(_earlier_invoice_claim(claim.vendor, claim.invoice_number, claim.pk) or claim)
    audit.record(
        actor=user, verb="mdf.claim.submit", obj=claim, changes={"reimbursable_amount": [None, str(reimbursable)]}
    )
    fund_claim_submitted(claim=claim)
    return claim


def fund_claim_submitted(*, claim: FundClaim) -> None:
    """The one place a submitted claim is announced (inside the submitting transaction): receivers of
    `mdf.signals.claim_submitted` (the analytics app's fraud check) see the claim before anyone
    reviews it. A receiver that raises aborts the submission."""
    signals.claim_submitted.send(sender=FundClaim, claim=claim)


def _unreserve(fund_request, allocation, amount):
    """Claim money no longer wanted goes back to the request, or to the allocation if it closed."""
    fund_request.reserved -= amount
    if fund_request.status in (FundRequestStatus.CLOSED, FundRequestStatus.CANCELLED):
        _release(fund_request, allocation, amount)


@transaction.atomic
def fund_claim_approve(*, user, claim: FundClaim, amount=None, reason: str = "") -> FundClaim:
    """Approve in full, or partially with a reason; the part not approved goes back."""
    _require(permissions.can_review_claims(user, claim.partner_id), "You may not review claims.")
    allocation = _lock_allocation(claim.fund_request.allocation_id)
    fund_request = _lock_request(claim.fund_request_id)
    claim = _lock_claim(claim.pk)
    if not claim.can_transition_to(FundClaimStatus.APPROVED):
        raise _illegal("claim", claim.status, FundClaimStatus.APPROVED)
    amount = claim.reimbursable_amount if amount in (None, "") else _money(amount)
    if amount <= 0:
        raise ValidationError({"amount": ["Approve a positive amount, or reject the claim."]})
    if amount > claim.reimbursable_amount:
        raise ValidationError({"amount": [f"At most {claim.reimbursable_amount} is reimbursable on this claim."]})
    if amount < claim.reimbursable_amount:
        reason = _reason(reason, "claim is approved in part")
    _unreserve(fund_request, allocation, claim.reimbursable_amount - amount)
    fund_request.save()
    claim.status = FundClaimStatus.APPROVED
    claim.approved_amount = amount
    claim.decided_by, claim.decided_at, claim.decision_reason = user, timezone.now(), reason
    claim.save()
    audit.record(
        actor=user, verb="mdf.claim.approve", obj=claim, changes={"approved_amount": [None, str(amount)]}, reason=reason
    )
    return claim


def _claim_refuse(*, user, claim, status, reason, verb, what):
    _require(permissions.can_review_claims(user, claim.partner_id), "You may not review claims.")
    allocation = _lock_allocation(claim.fund_request.allocation_id)
    fund_request = _lock_request(claim.fund_request_id)
    claim = _lock_claim(claim.pk)
    if claim.status != FundClaimStatus.SUBMITTED or not claim.can_transition_to(status):
        raise _illegal("claim", claim.status, status)
    reason = _reason(reason, f"claim is {what}")
    _unreserve(fund_request, allocation, claim.reimbursable_amount)
    fund_request.save()
    claim.status = status
    claim.reimbursable_amount = ZERO
    claim.decided_by, claim.decided_at, claim.decision_reason = user, timezone.now(), reason
    claim.save()
    audit.record(actor=user, verb=verb, obj=claim, reason=reason)
    _notify(
        recipients=_partner_people(claim.partner_id, users=[claim.created_by]),
        kind="mdf.claim_decided",
        key=f"mdf.claim.{claim.pk}.{status}.{claim.decided_at.isoformat()}",
        title=f"Claim {claim.reference} {what}",
        body=reason,
        url=reverse("mdf:claim-detail", args=[claim.pk]),
    )
    return claim


@transaction.atomic
def fund_claim_reject(*, user, claim: FundClaim, reason: str) -> FundClaim:
    return _claim_refuse(
        user=user, claim=claim, status=FundClaimStatus.REJECTED, reason=reason, verb="mdf.claim.reject", what="rejected"
    )


@transaction.atomic
def fund_claim_return(*, user, claim: FundClaim, reason: str) -> FundClaim:
    return _claim_refuse(
        user=user,
        claim=claim,
        status=FundClaimStatus.RETURNED,
        reason=reason,
        verb="mdf.claim.return",
        what="returned for changes",
    )


@transaction.atomic
def fund_claim_mark_paid(*, user, claim: FundClaim, payment_reference: str) -> FundClaim:
    """Finance records the payment: the approved amount moves from committed to paid."""
    _require(permissions.can_pay(user, claim.partner_id), "Only finance pays claims.")
    payment_reference = (payment_reference or "").strip()
    if not payment_reference:
        raise ValidationError({"payment_reference": ["Give the payment's reference."]})
    allocation = _lock_allocation(claim.fund_request.allocation_id)
    fund_request = _lock_request(claim.fund_request_id)
    claim = _lock_claim(claim.pk)
    if not claim.can_transition_to(FundClaimStatus.PAID):
        raise _illegal("claim", claim.status, FundClaimStatus.PAID)
    # A confirmed fraud alert (or a rule that holds at once) stops the payout: 403 with the reason.
    holds.ensure_payable(partner_id=claim.partner_id, subject=claim)
    paid = claim.approved_amount
    fund_request.reserved -= paid
    fund_request.paid_amount += paid
    fund_request.save(update_fields=["reserved", "paid_amount", "updated_at"])
    allocation.committed -= paid
    allocation.paid += paid
    allocation.save(update_fields=["committed", "paid", "updated_at"])
    claim.status = FundClaimStatus.PAID
    claim.payment_reference, claim.paid_by, claim.paid_at = payment_reference, user, timezone.now()
    claim.save(update_fields=["status", "payment_reference", "paid_by", "paid_at", "updated_at"])
    audit.record(
        actor=user,
        verb="mdf.claim.pay",
        obj=claim,
        changes={"paid": [None, str(paid)], "payment_reference": [None, payment_reference]},
    )
    _notify(
        recipients=_partner_people(claim.partner_id, users=[claim.created_by]),
        kind="mdf.claim_paid",
        key=f"mdf.claim.{claim.pk}.paid",
        title=f"Claim {claim.reference} paid: {paid}",
        body=f"Payment reference {payment_reference}.",
        url=reverse("mdf:claim-detail", args=[claim.pk]),
    )
    return claim


# Campaigns ---------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("name", "description", "countries", "starts_on", "ends_on", "budget", "lead_handling")


@transaction.atomic
def campaign_create(*, user, product_lines=(), fund_request=None, **fields) -> Campaign:
    """The parent's marketing creates parent campaigns; a partner whose marketing is its own creates
    its own (funded through one of its approved requests, if any)."""
    actor = actor_of(user)
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    campaign = Campaign(created_by=user, **fields)
    if actor.is_parent:
        _require(permissions.can_manage_parent_marketing(user), "You may not create campaigns.")
        campaign.owner_party, campaign.partner = CampaignOwner.PARENT, None
        if campaign.lead_handling == LeadHandling.PARTNER:
            raise ValidationError({"lead_handling": ["A parent campaign keeps its leads or distributes them."]})
        if fund_request is not None:
            raise ValidationError({"fund_request": ["Parent campaigns are not funded through partner requests."]})
    else:
        _require(permissions.can_run_own_campaigns(user), "Your marketing model does not let you run campaigns.")
        campaign.owner_party, campaign.partner, campaign.lead_handling = (
            CampaignOwner.PARTNER,
            actor.partner,
            LeadHandling.PARTNER,
        )
        if fund_request is not None and (
            fund_request.partner_id != actor.partner_id or fund_request.status != FundRequestStatus.APPROVED
        ):
            raise ValidationError({"fund_request": ["Choose one of your approved fund requests."]})
        campaign.fund_request = fund_request
    campaign.countries = ",".join(c.strip().upper() for c in (campaign.countries or "").split(",") if c.strip())
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise ValidationError({"ends_on": ["The campaign cannot end before it starts."]})
    campaign.full_clean(exclude=["product_lines"])
    campaign.save()
    campaign.product_lines.set(_product_lines(product_lines))
    audit.record(actor=user, verb="mdf.campaign.create", obj=campaign, partner=campaign.partner_id)
    return campaign


@transaction.atomic
def campaign_lead_create(*, user, campaign: Campaign, **fields):
    """A lead from a campaign. The parent's campaign leads carry the campaign as their source and,
    unless the campaign keeps its leads, enter lead distribution; a partner's own campaign leads are
    the partner's."""
    from deals import services as deal_services
    from deals.models import LeadSource

    actor = actor_of(user)
    if campaign.owner_party == CampaignOwner.PARENT:
        _require(actor.is_parent, "Only the parent adds leads to its campaigns.")
        route = campaign.lead_handling == LeadHandling.DISTRIBUTE
        lead = deal_services.lead_create(user=user, source=LeadSource.CAMPAIGN, route=route, **fields)
    else:
        _require(actor.is_partner and campaign.partner_id == actor.partner_id, "This is not your campaign.")
        lead = deal_services.lead_create(user=user, **fields)
    lead.campaign = campaign
    lead.save(update_fields=["campaign", "updated_at"])
    audit.record(actor=user, verb="mdf.campaign.lead", obj=campaign, partner=lead.partner_id, changes={"lead": lead.pk})
    return lead


@transaction.atomic
def campaign_attribute(*, user, campaign: Campaign, lead=None, registration=None):
    """Attribute one of the partner's own leads or deal registrations to a campaign it sees."""
    actor = actor_of(user)
    _require(actor.is_partner or permissions.can_manage_parent_marketing(user), "You may not attribute leads.")
    if lead is None and registration is None:
        raise ValidationError({"lead": ["Choose a lead or a deal registration."]})
    if not Campaign.objects.for_user(user).filter(pk=campaign.pk).exists():
        raise ValidationError({"campaign": ["Choose a campaign you can see."]})
    for name, obj in (("lead", lead), ("registration", registration)):
        if obj is None:
            continue
        if actor.is_partner and obj.partner_id != actor.partner_id:
            raise ValidationError({name: ["Choose one of your own."]})
        obj.campaign = campaign
        obj.save(update_fields=["campaign", "updated_at"])
        audit.record(actor=user, verb=f"mdf.campaign.attribute_{name}", obj=obj, changes={"campaign": campaign.pk})


# Collateral --------------------------------------------------------------------------------------


def _check_white_label_safe(asset, body_html: str):
    parent = settings.PARENT_COMPANY_NAME.lower()
    texts = (asset.title, asset.description, body_html)
    if asset.white_label_safe and any(parent in (text or "").lower() for text in texts):
        raise ValidationError(
            {"white_label_safe": [f"A white-label-safe asset must not name {settings.PARENT_COMPANY_NAME}."]}
        )


ASSET_FIELDS = ("title", "kind", "description", "is_published", "co_branded", "white_label_safe", "min_tier")


@transaction.atomic
def asset_create(
    *, user, body_html: str, marketing_models=(), countries=(), product_lines=(), notes: str = "", **fields
) -> Asset:
    """The parent's marketing adds to the library; a partner whose marketing is its own may keep its
    own collateral (a collateral-only partner may not)."""
    actor = actor_of(user)
    unknown = set(fields) - set(ASSET_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    asset = Asset(created_by=user, **fields)
    if actor.is_parent:
        _require(permissions.can_manage_parent_marketing(user), "You may not manage the collateral library.")
    else:
        _require(
            permissions.can_upload_own_collateral(user),
            "Your agreement lets you use only the parent's collateral; you cannot add your own.",
        )
        asset.partner = actor.partner
        marketing_models, countries, asset.min_tier = (), (), None
    from partners.agreement import MarketingModel

    bad = [m for m in marketing_models if m not in MarketingModel.values]
    if bad:
        raise ValidationError({"marketing_models": [f"Unknown marketing model: {', '.join(bad)}."]})
    asset.marketing_models = Asset.pack(marketing_models)
    asset.countries = Asset.pack(c.upper() for c in countries)
    if not (body_html or "").strip():
        raise ValidationError({"body_html": ["The asset needs content."]})
    _check_white_label_safe(asset, body_html)
    asset.full_clean(exclude=["product_lines", "current_version"])
    asset.save()
    asset.product_lines.set(_product_lines(product_lines))
    version = AssetVersion.objects.create(asset=asset, number=1, body_html=body_html, notes=notes, created_by=user)
    asset.current_version = version
    asset.save(update_fields=["current_version"])
    audit.record(actor=user, verb="mdf.asset.create", obj=asset, partner=asset.partner_id)
    return asset


def _may_change_asset(user, asset) -> bool:
    actor = actor_of(user)
    if asset.partner_id is None:
        return permissions.can_manage_parent_marketing(user)
    return permissions.can_upload_own_collateral(user) and asset.partner_id == actor.partner_id


@transaction.atomic
def asset_version_add(*, user, asset: Asset, body_html: str, notes: str = "") -> AssetVersion:
    _require(_may_change_asset(user, asset), "You may not change this asset.")
    asset = Asset.objects.select_for_update().get(pk=asset.pk)  # scope-lint: ok (visible, checked above)
    if not (body_html or "").strip():
        raise ValidationError({"body_html": ["The asset needs content."]})
    _check_white_label_safe(asset, body_html)
    number = (asset.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = AssetVersion.objects.create(asset=asset, number=number, body_html=body_html, notes=notes, created_by=user)
    asset.current_version = version
    asset.save(update_fields=["current_version", "updated_at"])
    audit.record(actor=user, verb="mdf.asset.version", obj=asset, partner=asset.partner_id, changes={"version": number})
    return version


def asset_render(*, user, asset: Asset, fmt: str = DownloadFormat.HTML, partner=None) -> tuple[bytes, str, str]:
    """The asset rendered for the caller's partner (parent staff: for a partner they choose, or their
    own preview), as HTML or PDF; each rendering is recorded as a download. Returns (content,
    content type, file name)."""
    from prm.pdf import html_to_pdf

    from .rendering import render_asset_html

    actor = actor_of(user)
    if fmt not in DownloadFormat.values:
        raise ValidationError({"format": ["Choose html or pdf."]})
    if actor.is_partner:
        partner = actor.partner
    version = asset.current_version
    if version is None:
        raise ValidationError({"asset": ["This asset has no content yet."]})
    html = render_asset_html(asset=asset, version=version, partner=partner, user=user)
    AssetDownload.objects.create(
        asset=asset, version=version, partner=partner if partner is not None else None, user=user, format=fmt
    )
    slug = "".join(ch if ch.isalnum() else "-" for ch in asset.title.lower()).strip("-")[:60] or "asset"
    if fmt == DownloadFormat.PDF:
        return html_to_pdf(html), "application/pdf", f"{slug}.pdf"
    return html.encode("utf-8"), "text/html; charset=utf-8", f"{slug}.html"
