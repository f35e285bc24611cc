"""Reads of marketing funds, campaigns and collateral, always from the caller's scoped querysets."""

import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from partners.access import actor_of

from .models import (
    PARENT_MDF_READERS,
    ZERO,
    AllocationStatus,
    Asset,
    AssetDownload,
    Campaign,
    ClaimFile,
    FundAllocation,
    FundClaim,
    FundClaimStatus,
    FundProgram,
    FundRequest,
    FundRequestStatus,
)

MONEY = DecimalField(max_digits=16, decimal_places=2)


def allocation_list(*, user):
    return (
        FundAllocation.objects.for_user(user)
        .select_related("program", "partner")
        .order_by("-program__starts_on", "partner__name", "pk")
    )


def request_list(*, user, status: str = ""):
    qs = FundRequest.objects.for_user(user).select_related("partner", "allocation__program", "created_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def request_get(*, user, pk):
    return request_list(user=user).prefetch_related("product_lines").filter(pk=pk).first()


def claim_list(*, user, status: str = ""):
    qs = FundClaim.objects.for_user(user).select_related("partner", "fund_request", "created_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def claim_get(*, user, pk):
    return claim_list(user=user).filter(pk=pk).first()


def claim_files(*, user, claim):
    return ClaimFile.objects.for_user(user).filter(claim=claim).order_by("created_at", "id")


def claim_file_get(*, user, claim, pk):
    return claim_files(user=user, claim=claim).filter(pk=pk).first()


def campaign_list(*, user):
    return Campaign.objects.for_user(user).select_related("partner", "fund_request").order_by("-starts_on", "name")


def campaign_get(*, user, pk):
    return campaign_list(user=user).filter(pk=pk).first()


def asset_list(*, user, kind: str = "", search: str = ""):
    qs = Asset.objects.for_user(user).select_related("current_version", "min_tier", "partner")
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(description__icontains=search))
    return qs.order_by("title", "id")


def asset_get(*, user, pk):
    return asset_list(user=user).filter(pk=pk).first()


def download_counts(*, user, assets) -> dict:
    """Downloads per asset that the caller may count (a partner: its own; the parent: all)."""
    rows = (
        AssetDownload.objects.for_user(user)
        .filter(asset__in=[a.pk for a in assets])
        .values("asset_id")
        .annotate(n=Count("id"))
    )
    return {row["asset_id"]: row["n"] for row in rows}


def fund_summary(*, user, today=None) -> dict | None:
    """The caller's partner's funds: balance, the next claim deadline, and what expires within 30
    days. For parent staff: totals over the partners they see. None for those without MDF access."""
    actor = actor_of(user)
    today = today or timezone.localdate()
    if not actor.is_partner and not actor.has_parent_role(*PARENT_MDF_READERS):
        return None
    allocations = FundAllocation.objects.for_user(user).filter(status=AllocationStatus.ACTIVE)
    totals = allocations.aggregate(
        amount=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
        committed=Coalesce(Sum("committed"), Value(ZERO), output_field=MONEY),
        paid=Coalesce(Sum("paid"), Value(ZERO), output_field=MONEY),
        expired=Coalesce(Sum("expired"), Value(ZERO), output_field=MONEY),
    )
    # SQLite sums decimals without their scale: money is shown to the cent on every database.
    totals = {name: Decimal(value).quantize(Decimal("0.01")) for name, value in totals.items()}
    balance = totals["amount"] - totals["committed"] - totals["paid"] - totals["expired"]
    soon = today + datetime.timedelta(days=30)
    expiring = Decimal("0.00")
    expiring_on = None
    for allocation in allocations.select_related("program"):
        expires_on = allocation.program.expires_on
        if today <= expires_on <= soon:
            expiring += allocation.balance + allocation.committed
            expiring_on = min(expiring_on or expires_on, expires_on)
    requests = FundRequest.objects.for_user(user)
    next_deadline = (
        requests.filter(status=FundRequestStatus.APPROVED, claim_deadline__gte=today)
        .order_by("claim_deadline")
        .values_list("claim_deadline", flat=True)
        .first()
    )
    return {
        "allocated": totals["amount"],
        "committed": totals["committed"],
        "paid": totals["paid"],
        "balance": balance,
        "expiring": expiring,
        "expiring_on": expiring_on,
        "next_deadline": next_deadline,
        "requests_pending": requests.filter(status=FundRequestStatus.SUBMITTED).count(),
        "claims_pending": FundClaim.objects.for_user(user).filter(status=FundClaimStatus.SUBMITTED).count(),
    }


def program_burn(*, user):
    """Budget burn per program over the allocations the caller sees."""
    visible = FundAllocation.objects.for_user(user)

    def total(field):
        return Coalesce(
            Subquery(
                visible.filter(program=OuterRef("pk"))
                .exclude(status=AllocationStatus.PROPOSED)
                .values("program")
                .annotate(t=Sum(field))
                .values("t")[:1],
                output_field=MONEY,
            ),
            Value(ZERO),
            output_field=MONEY,
        )

    return (
        FundProgram.objects.filter(Exists(visible.filter(program=OuterRef("pk"))) | Q(allocations__isnull=True))
        .distinct()
        .annotate(allocated=total("amount"), committed=total("committed"), paid=total("paid"), expired=total("expired"))
        .order_by("-starts_on", "name")
    )


def request_results(*, user, fund_requests) -> dict:
    """Per request: leads and opportunities attributed to its campaigns (through the lead or the deal
    registration), pipeline (open), won revenue, and ROI against the paid amount. Counts only what the
    caller sees."""
    from deals.models import Lead, Opportunity, OpportunityStage

    ids = [r.pk for r in fund_requests]
    if not ids:
        return {}
    leads = (
        Lead.objects.for_user(user)
        .filter(campaign__fund_request__in=ids)
        .values("campaign__fund_request")
        .annotate(n=Count("id"))
    )
    result = {pk: {"leads": 0, "pipeline": ZERO, "won": ZERO, "roi": None} for pk in ids}
    for row in leads:
        result[row["campaign__fund_request"]]["leads"] = row["n"]
    opportunities = Opportunity.objects.for_user(user).filter(
        Q(lead__campaign__fund_request__in=ids) | Q(registration__campaign__fund_request__in=ids)
    )
    for opp in opportunities.values(
        "amount", "stage", "lead__campaign__fund_request", "registration__campaign__fund_request"
    ):
        key = opp["lead__campaign__fund_request"] or opp["registration__campaign__fund_request"]
        if key not in result:
            continue
        if opp["stage"] == OpportunityStage.CLOSED_WON:
            result[key]["won"] += opp["amount"]
        elif opp["stage"] != OpportunityStage.CLOSED_LOST:
            result[key]["pipeline"] += opp["amount"]
    for fund_request in fund_requests:
        row = result[fund_request.pk]
        if fund_request.paid_amount > 0:
            row["roi"] = ((row["won"] - fund_request.paid_amount) / fund_request.paid_amount).quantize(Decimal("0.01"))
    return result


def campaign_results(*, user, campaigns) -> dict:
    """Per campaign: leads and the pipeline and won revenue of their opportunities (what the caller sees)."""
    from deals.models import Lead, Opportunity, OpportunityStage

    ids = [c.pk for c in campaigns]
    result = {pk: {"leads": 0, "pipeline": ZERO, "won": ZERO} for pk in ids}
    if not ids:
        return result
    for row in Lead.objects.for_user(user).filter(campaign__in=ids).values("campaign").annotate(n=Count("id")):
        result[row["campaign"]]["leads"] = row["n"]
    opportunities = Opportunity.objects.for_user(user).filter(
        Q(lead__campaign__in=ids) | Q(registration__campaign__in=ids)
    )
    for opp in opportunities.values("amount", "stage", "lead__campaign", "registration__campaign"):
        key = opp["lead__campaign"] or opp["registration__campaign"]
        if opp["stage"] == OpportunityStage.CLOSED_WON:
            result[key]["won"] += opp["amount"]
        elif opp["stage"] != OpportunityStage.CLOSED_LOST:
            result[key]["pipeline"] += opp["amount"]
    return result
