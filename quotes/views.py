"""Portal pages: the quote list and builder (htmx line add, live prices and totals, the partner's
discount limits), the printable document, orders with their status timeline, and the parent's review
queue. Every read goes through the selectors; every write through the services."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deals.models import OPEN_STAGES, Opportunity
from partners.access import actor_of
from partners.models import Partner
from partners.views import apply_form_errors, paginate, portal_view
from prm.security import bounds

from . import permissions, pricing, selectors, services
from .documents import quote_pdf_response, render_quote_document
from .forms import LineForm, QuoteForm, QuoteHeaderForm, ServiceLineForm
from .models import OrderStatus, QuoteStatus


def _quote_or_404(request, pk):
    quote = selectors.quote_get(user=request.user, pk=pk)
    if quote is None:
        raise Http404
    return quote


def _order_or_404(request, pk):
    order = selectors.order_get(user=request.user, pk=pk)
    if order is None:
        raise Http404
    return order


def _error_text(exc: ValidationError) -> str:
    """The messages a person reads (the API's machine-readable `failed_rules` list is left out)."""
    if hasattr(exc, "error_dict"):
        return " ".join(m for field, msgs in exc.message_dict.items() if field != "failed_rules" for m in msgs)
    return " ".join(exc.messages)


# Quotes ---------------------------------------------------------------------------------------------


@portal_view
def quote_list(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("search", "status")}
    page = paginate(request, selectors.quote_list(user=request.user, **filters))
    actor = actor_of(request.user)
    is_request = actor.is_partner and not permissions.partner_quotes_itself(actor.partner)
    return render(
        request,
        "quotes/quote_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": QuoteStatus.choices,
            "can_create": permissions.can_create_quote(request.user),
            "is_request": is_request,
            "status_only": permissions.sees_status_only(request.user),
        },
    )


@portal_view
def quote_create(request):
    if not permissions.can_create_quote(request.user):
        raise PermissionDenied
    actor = actor_of(request.user)
    is_request = actor.is_partner and not permissions.partner_quotes_itself(actor.partner)
    form = QuoteForm(
        request.POST or None,
        customers=selectors.quotable_customers(user=request.user),
        partners=Partner.objects.for_user(request.user) if actor.is_parent else None,
        price_books=selectors.current_price_books(user=request.user),
        is_request=is_request,
        opportunities=Opportunity.objects.for_user(request.user).filter(stage__in=OPEN_STAGES),
        initial={"opportunity": request.GET.get("opportunity")} if request.GET.get("opportunity") else None,
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            quote = services.quote_create(user=request.user, **data)
            messages.success(request, "Quote requested." if is_request else "Quote created: add its lines.")
            return redirect("quotes:quote-detail", pk=quote.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    title = "Request a quote" if is_request else "New quote"
    return render(request, "quotes/quote_form.html", {"form": form, "title": title, "is_request": is_request})


def _builder_context(request, quote, line_form=None):
    can_edit = permissions.can_edit_quote(request.user, quote) and quote.is_editable
    return {
        "quote": quote,
        "lines": list(quote.lines.all()),
        "can_edit": can_edit,
        "line_form": line_form or LineForm(products=selectors.sellable_products(user=request.user)),
        "limits": selectors.discount_limits_for(user=request.user, partner=quote.partner),
        "approval_reasons": services.quote_approval_reasons(quote) if quote.is_editable else quote.approval_reasons,
        "threshold": services.approval_threshold(),
    }


@portal_view
def quote_detail(request, pk):
    quote = _quote_or_404(request, pk)
    if permissions.sees_status_only(request.user, quote):
        return render(request, "quotes/quote_status.html", {"quote": quote})
    context = _builder_context(request, quote)
    status = QuoteStatus(quote.status)
    can_edit = permissions.can_edit_quote(request.user, quote)
    can_decide = permissions.can_decide_quote(request.user, quote)
    actions = []
    if can_edit and quote.is_editable:
        actions += [("submit", "Submit (approval if beyond your limits)"), ("send", "Send to customer")]
    if can_decide and status == QuoteStatus.PENDING_APPROVAL:
        actions += [("approve", "Approve")]
    if can_edit and status == QuoteStatus.APPROVED:
        actions += [("send", "Send to customer")]
    if can_edit and status == QuoteStatus.SENT:
        actions += [("accept", "Customer accepted"), ("decline", "Customer declined")]
    if can_edit and not quote.is_editable and quote.can_transition_to(QuoteStatus.SUPERSEDED):
        actions += [("revise", "Revise (new version)")]
    context |= {
        "actions": actions,
        "can_decide": can_decide and status == QuoteStatus.PENDING_APPROVAL,
        "header_form": QuoteHeaderForm(
            initial={
                "valid_until": quote.valid_until,
                "header_discount_percent": quote.header_discount_percent,
                "terms": quote.terms,
            }
        ),
        "versions": selectors.quote_versions(user=request.user, quote=quote),
        "service_lines": list(quote.service_lines.all())
        if permissions.sees_own_services(request.user, quote)
        else None,
        "can_add_services": permissions.can_add_own_services(request.user, quote) and quote.is_editable,
        "service_form": ServiceLineForm(),
        "can_order": status == QuoteStatus.ACCEPTED
        and permissions.can_create_order(request.user)
        and not hasattr(quote, "order"),
    }
    return render(request, "quotes/quote_detail.html", context)


def _render_lines(request, quote, line_form=None, status=200):
    quote = _quote_or_404(request, quote.pk)
    response = render(request, "quotes/_quote_lines.html", _builder_context(request, quote, line_form))
    response.status_code = status
    return response


@portal_view
@require_POST
def quote_line_add(request, pk):
    quote = _quote_or_404(request, pk)
    if not permissions.can_edit_quote(request.user, quote):
        raise PermissionDenied
    form = LineForm(request.POST, products=selectors.sellable_products(user=request.user))
    if form.is_valid():
        try:
            services.quote_line_add(user=request.user, quote=quote, **form.cleaned_data)
            form = None
        except ValidationError as exc:
            apply_form_errors(form, exc)
    if request.htmx:
        return _render_lines(request, quote, form, status=200)
    if form is not None:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("quotes:quote-detail", pk=quote.pk)


@portal_view
@require_POST
def quote_line_remove(request, pk, line_id):
    quote = _quote_or_404(request, pk)
    if not permissions.can_edit_quote(request.user, quote):
        raise PermissionDenied
    try:
        services.quote_line_remove(user=request.user, quote=quote, line_id=line_id)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    if request.htmx:
        return _render_lines(request, quote)
    return redirect("quotes:quote-detail", pk=quote.pk)


@portal_view
@require_POST
def quote_service_add(request, pk):
    """A white-label partner adds one of its own services to its quote."""
    quote = _quote_or_404(request, pk)
    if not permissions.can_add_own_services(request.user, quote):
        raise PermissionDenied
    form = ServiceLineForm(request.POST)
    if form.is_valid():
        try:
            services.quote_service_line_add(user=request.user, quote=quote, **form.cleaned_data)
            messages.success(request, "Service added.")
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("quotes:quote-detail", pk=quote.pk)


@portal_view
@require_POST
def quote_service_remove(request, pk, line_id):
    quote = _quote_or_404(request, pk)
    if not permissions.can_add_own_services(request.user, quote):
        raise PermissionDenied
    try:
        services.quote_service_line_remove(user=request.user, quote=quote, line_id=line_id)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("quotes:quote-detail", pk=quote.pk)


@portal_view
@require_POST
def quote_header(request, pk):
    quote = _quote_or_404(request, pk)
    if not permissions.can_edit_quote(request.user, quote):
        raise PermissionDenied
    form = QuoteHeaderForm(request.POST)
    if form.is_valid():
        try:
            services.quote_update(user=request.user, quote=quote, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    if request.htmx:
        return _render_lines(request, quote)
    return redirect("quotes:quote-detail", pk=quote.pk)


@portal_view
def quote_line_preview(request, pk):
    """Live price of the line being added: unit price, amount and the tier limit (htmx). Inputs are
    checked by the line form itself; what it refuses is a 400 naming the field."""
    quote = _quote_or_404(request, pk)
    form = LineForm(request.GET, products=selectors.sellable_products(user=request.user))
    if not request.GET.get("product"):
        return render(request, "quotes/_line_preview.html", {"product": None})
    if not form.is_valid():
        error = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return render(request, "quotes/_line_preview.html", {"error": error}, status=400)
    product = form.cleaned_data["product"]
    quantity = form.cleaned_data["quantity"]
    discount = form.cleaned_data["discount_percent"] or Decimal("0")
    context = {"product": product}
    try:
        unit = pricing.unit_price_for(partner=quote.partner, price_book=quote.price_book, product=product)
    except ValidationError as exc:
        context["error"] = _error_text(exc)
    else:
        net = pricing.line_net(unit, quantity, discount)
        if not bounds.decimal_fits(net, 14, 2):
            return render(
                request, "quotes/_line_preview.html", {"error": "quantity: the line amount is too large."}, status=400
            )
        limit = pricing.discount_limits(quote.partner).get(product.product_line_id, Decimal("0"))
        effective = pricing.effective_discount(discount, quote.header_discount_percent)
        context |= {
            "unit_price": unit,
            "net": net,
            "limit": limit,
            "over_limit": effective > limit,
            "currency": quote.currency,
        }
    return render(request, "quotes/_line_preview.html", context)


QUOTE_ACTIONS = {
    "submit": lambda user, quote, reason: services.quote_submit(user=user, quote=quote),
    "approve": lambda user, quote, reason: services.quote_approve(user=user, quote=quote, reason=reason),
    "reject": lambda user, quote, reason: services.quote_reject(user=user, quote=quote, reason=reason),
    "return": lambda user, quote, reason: services.quote_return(user=user, quote=quote, reason=reason),
    "send": lambda user, quote, reason: services.quote_send(user=user, quote=quote),
    "accept": lambda user, quote, reason: services.quote_accept(user=user, quote=quote),
    "decline": lambda user, quote, reason: services.quote_decline(user=user, quote=quote, reason=reason),
    "revise": lambda user, quote, reason: services.quote_revise(user=user, quote=quote),
}


@portal_view
@require_POST
def quote_action(request, pk, action):
    quote = _quote_or_404(request, pk)
    if action not in QUOTE_ACTIONS:
        raise Http404
    try:
        result = QUOTE_ACTIONS[action](request.user, quote, request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("quotes:quote-detail", pk=quote.pk)
    messages.success(request, f"Quote {result.number} is now {result.get_status_display().lower()}.")
    if request.POST.get("and_next"):
        following = selectors.next_quote_to_approve(user=request.user, after=quote)
        if following is None:
            messages.info(request, "No other quote is waiting for approval.")
            return redirect("quotes:review-queue")
        return redirect("quotes:quote-detail", pk=following.pk)
    return redirect("quotes:quote-detail", pk=result.pk)


@portal_view
def quote_document(request, pk):
    quote = _quote_or_404(request, pk)
    if permissions.sees_status_only(request.user, quote):
        raise PermissionDenied
    return HttpResponse(render_quote_document(quote))


@portal_view
def quote_document_pdf(request, pk):
    """The same document as PDF (WeasyPrint renders the HTML above), in the agreement's brand."""
    quote = _quote_or_404(request, pk)
    return quote_pdf_response(quote)


@portal_view
@require_POST
def quote_order(request, pk):
    quote = _quote_or_404(request, pk)
    try:
        order = services.order_create_from_quote(user=request.user, quote=quote)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("quotes:quote-detail", pk=quote.pk)
    messages.success(request, f"Order {order.number} created from {quote.number}: submit it.")
    return redirect("quotes:order-detail", pk=order.pk)


# Orders ---------------------------------------------------------------------------------------------


@portal_view
def order_list(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("search", "status")}
    page = paginate(request, selectors.order_list(user=request.user, **filters))
    return render(
        request, "quotes/order_list.html", {"page": page, "filters": filters, "statuses": OrderStatus.choices}
    )


@portal_view
def order_detail(request, pk):
    order = _order_or_404(request, pk)
    if permissions.sees_status_only(request.user, order):
        return render(request, "quotes/quote_status.html", {"quote": order})
    status = OrderStatus(order.status)
    can_change = permissions.can_change_order(request.user, order)
    can_review = permissions.can_review_order(request.user, order)
    actions = []
    if can_change and status == OrderStatus.DRAFT:
        actions.append(("submit", "Submit order"))
    if can_review and status in (OrderStatus.SUBMITTED, OrderStatus.IN_REVIEW):
        actions.append(("approve", "Approve"))
    if can_review and status == OrderStatus.FAILED:
        actions.append(("retry", "Retry provisioning"))
    if (can_change or can_review) and order.can_transition_to(OrderStatus.CANCELLED):
        actions.append(("cancel", "Cancel order"))
    return render(
        request,
        "quotes/order_detail.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "events": list(order.events.all()),
            "actions": actions,
            "can_decline": can_review and status in (OrderStatus.SUBMITTED, OrderStatus.IN_REVIEW),
            "failed_rules": [r for r in order.rule_results if not r.get("passed")],
        },
    )


ORDER_ACTIONS = {
    "submit": lambda user, order, reason: services.order_submit(user=user, order=order),
    "approve": lambda user, order, reason: services.order_approve(user=user, order=order, reason=reason),
    "decline": lambda user, order, reason: services.order_decline(user=user, order=order, reason=reason),
    "cancel": lambda user, order, reason: services.order_cancel(user=user, order=order, reason=reason),
    "retry": lambda user, order, reason: services.order_retry(user=user, order=order),
}


@portal_view
@require_POST
def order_action(request, pk, action):
    order = _order_or_404(request, pk)
    if action not in ORDER_ACTIONS:
        raise Http404
    try:
        result = ORDER_ACTIONS[action](request.user, order, request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Order {result.number} is now {result.get_status_display().lower()}.")
        if request.POST.get("and_next"):
            following = selectors.next_order_to_review(user=request.user, after=order)
            if following is None:
                messages.info(request, "No other order is waiting for review.")
                return redirect("quotes:review-queue")
            return redirect("quotes:order-detail", pk=following.pk)
    if request.POST.get("next") == "review":
        return redirect("quotes:review-queue")
    return redirect("quotes:order-detail", pk=order.pk)


@portal_view
def review_queue(request):
    if not actor_of(request.user).is_parent:
        raise Http404
    orders, quotes = selectors.review_queue(user=request.user)
    return render(request, "quotes/review_queue.html", {"orders": orders, "quotes": quotes})
