"""Portal pages for marketing: the partner's fund balance with its deadlines and what is about to
expire, request and claim forms with uploads, the collateral library with a co-branded preview and
download, and campaign results; for the parent's marketing, the request and claim review queues
(claim facts beside their proof), allocations per partner and budget burn per program."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analytics.holds import PayoutHeld
from partners import uploads
from partners.access import actor_of
from partners.views import apply_form_errors, paginate, portal_view

from . import permissions, selectors, services
from .api.views import asset_response
from .forms import FundClaimForm, FundRequestForm, ProofFileForm
from .models import FundClaimStatus, FundRequestStatus


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for messages_ in exc.message_dict.values() for m in messages_)
    return " ".join(exc.messages)


def _or_404(obj):
    if obj is None:
        raise Http404
    return obj


@portal_view
def home(request):
    actor = actor_of(request.user)
    context = {"summary": selectors.fund_summary(user=request.user)}
    if actor.is_partner:
        requests_ = list(selectors.request_list(user=request.user)[:10])
        campaigns = list(selectors.campaign_list(user=request.user)[:10])
        results = selectors.request_results(user=request.user, fund_requests=requests_)
        for fund_request in requests_:
            fund_request.res = results[fund_request.pk]
        campaign_results = selectors.campaign_results(user=request.user, campaigns=campaigns)
        for campaign in campaigns:
            campaign.res = campaign_results[campaign.pk]
        context.update(
            {
                "allocations": selectors.allocation_list(user=request.user),
                "requests": requests_,
                "claims": selectors.claim_list(user=request.user)[:10],
                "campaigns": campaigns,
                "can_request": permissions.can_request_funds(request.user),
                "marketing_model": actor.agreement.get_marketing_model_display(),
            }
        )
    else:
        context.update(
            {
                "burn": selectors.program_burn(user=request.user),
                "allocations": paginate(request, selectors.allocation_list(user=request.user)),
                "pending_requests": selectors.request_list(user=request.user, status=FundRequestStatus.SUBMITTED)[:20],
                "pending_claims": selectors.claim_list(user=request.user, status=FundClaimStatus.SUBMITTED)[:20],
                "payable_claims": selectors.claim_list(user=request.user, status=FundClaimStatus.APPROVED)[:20],
            }
        )
    return render(request, "mdf/home.html", context)


@portal_view
def request_list(request):
    status = request.GET.get("status", "")
    status = status if status in FundRequestStatus.values else ""
    page = paginate(request, selectors.request_list(user=request.user, status=status))
    return render(
        request,
        "mdf/request_list.html",
        {
            "page": page,
            "status": status,
            "statuses": FundRequestStatus.choices,
            "can_request": permissions.can_request_funds(request.user),
        },
    )


@portal_view
def request_create(request):
    if not permissions.can_request_funds(request.user):
        raise PermissionDenied
    actor = actor_of(request.user)
    allow_own = permissions.may_use_own_materials_under(permissions.marketing_model(actor))
    form = FundRequestForm(request.POST or None, user=request.user, allow_own_materials=allow_own)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        data["product_lines"] = list(form.cleaned_data.get("product_lines") or [])
        try:
            fund_request = services.fund_request_create(
                user=request.user, submit=request.POST.get("submit") == "1", **data
            )
            messages.success(request, f"{fund_request.reference}: {fund_request.get_status_display()}.")
            return redirect("mdf:request-detail", pk=fund_request.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    return render(request, "mdf/request_form.html", {"form": form})


def _request_actions(user, fund_request) -> list[str]:
    actions = []
    if permissions.can_edit_own(user, fund_request):
        if fund_request.can_transition_to(FundRequestStatus.SUBMITTED):
            actions.append("submit")
        if fund_request.status in (FundRequestStatus.DRAFT, FundRequestStatus.SUBMITTED, FundRequestStatus.RETURNED):
            actions.append("cancel")
    if fund_request.status == FundRequestStatus.SUBMITTED and permissions.can_decide_requests(
        user, fund_request.partner_id
    ):
        actions += ["approve", "reject", "return"]
    return actions


@portal_view
def request_detail(request, pk):
    fund_request = _or_404(selectors.request_get(user=request.user, pk=pk))
    claims = selectors.claim_list(user=request.user).filter(fund_request=fund_request)
    return render(
        request,
        "mdf/request_detail.html",
        {
            "fr": fund_request,
            "actions": _request_actions(request.user, fund_request),
            "claims": claims,
            "results": selectors.request_results(user=request.user, fund_requests=[fund_request])[fund_request.pk],
            "can_claim": fund_request.status == FundRequestStatus.APPROVED
            and permissions.can_claim(request.user, fund_request),
            "claim_form": FundClaimForm(),
        },
    )


REQUEST_ACTIONS = {
    "submit": lambda user, fr, post: services.fund_request_submit(user=user, fund_request=fr),
    "approve": lambda user, fr, post: services.fund_request_approve(
        user=user,
        fund_request=fr,
        amount=post.get("amount") or None,
        reimbursement_percent=post.get("reimbursement_percent") or 100,
        claim_deadline=post.get("claim_deadline") or None,
        reason=post.get("reason", ""),
    ),
    "reject": lambda user, fr, post: services.fund_request_reject(
        user=user, fund_request=fr, reason=post.get("reason", "")
    ),
    "return": lambda user, fr, post: services.fund_request_return(
        user=user, fund_request=fr, reason=post.get("reason", "")
    ),
    "cancel": lambda user, fr, post: services.fund_request_cancel(
        user=user, fund_request=fr, reason=post.get("reason", "")
    ),
}


@require_POST
@portal_view
def request_action(request, pk, name):
    fund_request = _or_404(selectors.request_get(user=request.user, pk=pk))
    if name not in REQUEST_ACTIONS:
        raise Http404
    try:
        if name == "approve" and request.POST.get("claim_deadline"):
            request.POST = request.POST.copy()
            from django.utils.dateparse import parse_date

            deadline = parse_date(request.POST["claim_deadline"])
            if deadline is None:
                raise ValidationError({"claim_deadline": ["Use a date like 2026-12-31."]})
            request.POST["claim_deadline"] = deadline
        result = REQUEST_ACTIONS[name](request.user, fund_request, request.POST)
        messages.success(request, f"{result.reference}: {result.get_status_display()}.")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("mdf:request-detail", pk=fund_request.pk)


@require_POST
@portal_view
def claim_create(request, pk):
    fund_request = _or_404(selectors.request_get(user=request.user, pk=pk))
    if not permissions.can_claim(request.user, fund_request):
        raise PermissionDenied
    form = FundClaimForm(request.POST, request.FILES)
    if form.is_valid():
        data = dict(form.cleaned_data)
        upload, kind = data.pop("file"), data.pop("kind")
        try:
            claim = services.fund_claim_create(
                user=request.user,
                fund_request=fund_request,
                files=[(upload, kind)],
                submit=request.POST.get("submit") == "1",
                **data,
            )
            messages.success(request, f"{claim.reference}: {claim.get_status_display()}.")
            return redirect("mdf:claim-detail", pk=claim.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    claims = selectors.claim_list(user=request.user).filter(fund_request=fund_request)
    context = {
        "fr": fund_request,
        "actions": _request_actions(request.user, fund_request),
        "claims": claims,
        "results": selectors.request_results(user=request.user, fund_requests=[fund_request])[fund_request.pk],
        "can_claim": True,
        "claim_form": form,
    }
    return render(request, "mdf/request_detail.html", context, status=400)


@portal_view
def claim_list(request):
    status = request.GET.get("status", "")
    status = status if status in FundClaimStatus.values else ""
    page = paginate(request, selectors.claim_list(user=request.user, status=status))
    return render(request, "mdf/claim_list.html", {"page": page, "status": status, "statuses": FundClaimStatus.choices})


def _claim_actions(user, claim) -> list[str]:
    actions = []
    if permissions.can_edit_own(user, claim) and claim.can_transition_to(FundClaimStatus.SUBMITTED):
        actions.append("submit")
    if claim.status == FundClaimStatus.SUBMITTED and permissions.can_review_claims(user, claim.partner_id):
        actions += ["approve", "reject", "return"]
    if claim.status == FundClaimStatus.APPROVED and permissions.can_pay(user, claim.partner_id):
        actions.append("mark-paid")
    return actions


@portal_view
def claim_detail(request, pk):
    claim = _or_404(selectors.claim_get(user=request.user, pk=pk))
    actions = _claim_actions(request.user, claim)
    can_upload = permissions.can_edit_own(request.user, claim) and claim.status in (
        FundClaimStatus.DRAFT,
        FundClaimStatus.RETURNED,
    )
    return render(
        request,
        "mdf/claim_detail.html",
        {
            "claim": claim,
            "files": selectors.claim_files(user=request.user, claim=claim),
            "actions": actions,
            "file_form": ProofFileForm() if can_upload else None,
        },
    )


CLAIM_ACTIONS = {
    "submit": lambda user, claim, post: services.fund_claim_submit(user=user, claim=claim),
    "approve": lambda user, claim, post: services.fund_claim_approve(
        user=user, claim=claim, amount=post.get("amount") or None, reason=post.get("reason", "")
    ),
    "reject": lambda user, claim, post: services.fund_claim_reject(
        user=user, claim=claim, reason=post.get("reason", "")
    ),
    "return": lambda user, claim, post: services.fund_claim_return(
        user=user, claim=claim, reason=post.get("reason", "")
    ),
    "mark-paid": lambda user, claim, post: services.fund_claim_mark_paid(
        user=user, claim=claim, payment_reference=post.get("payment_reference", "")
    ),
}


@require_POST
@portal_view
def claim_action(request, pk, name):
    claim = _or_404(selectors.claim_get(user=request.user, pk=pk))
    if name not in CLAIM_ACTIONS:
        raise Http404
    try:
        result = CLAIM_ACTIONS[name](request.user, claim, request.POST)
        messages.success(request, f"{result.reference}: {result.get_status_display()}.")
    except PayoutHeld as exc:
        back = reverse("mdf:claim-detail", args=[claim.pk])
        return render(request, "analytics/payout_held.html", {"reason": str(exc), "back_url": back}, status=403)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("mdf:claim-detail", pk=claim.pk)


@require_POST
@portal_view
def claim_file_add(request, pk):
    claim = _or_404(selectors.claim_get(user=request.user, pk=pk))
    form = ProofFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.fund_claim_file_add(user=request.user, claim=claim, **form.cleaned_data)
            messages.success(request, "File added.")
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "Choose a file.")
    return redirect("mdf:claim-detail", pk=claim.pk)


@portal_view
def claim_file_download(request, pk, file_pk):
    claim = _or_404(selectors.claim_get(user=request.user, pk=pk))
    proof = _or_404(selectors.claim_file_get(user=request.user, claim=claim, pk=file_pk))
    return uploads.stream_file(proof)


@portal_view
def asset_list(request):
    search = request.GET.get("search", "").strip()
    page = paginate(request, selectors.asset_list(user=request.user, search=search))
    counts = selectors.download_counts(user=request.user, assets=page.object_list)
    for asset in page.object_list:
        asset.download_count = counts.get(asset.pk, 0)
    return render(
        request,
        "mdf/asset_list.html",
        {"page": page, "search": search, "can_upload": permissions.can_upload_own_collateral(request.user)},
    )


@portal_view
def asset_detail(request, pk):
    asset = _or_404(selectors.asset_get(user=request.user, pk=pk))
    return render(request, "mdf/asset_detail.html", {"asset": asset})


@portal_view
def asset_render(request, pk, fmt):
    asset = _or_404(selectors.asset_get(user=request.user, pk=pk))
    if fmt not in ("html", "pdf"):
        raise Http404
    partner = request.GET.get("partner", "")
    return asset_response(request, asset, fmt, int(partner) if partner.isdigit() else None)


@portal_view
def campaign_list(request):
    page = paginate(request, selectors.campaign_list(user=request.user))
    results = selectors.campaign_results(user=request.user, campaigns=page.object_list)
    for campaign in page.object_list:
        campaign.results = results.get(campaign.pk)
    return render(request, "mdf/campaign_list.html", {"page": page})
