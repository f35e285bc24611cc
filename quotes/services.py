"""Every write to quotes and orders: keyword-only functions that check rights and the state machine,
run in a transaction, lock the row they move and write an audit event. Provisioning is handed off
through an outbox row and a task enqueued on commit."""

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics import fraud
from partners import audit
from partners import services as partner_services
from partners.access import actor_of
from partners.agreement import QuoteAccess, ServiceModel
from partners.models import Customer, CustomerRelationship, CustomerStatus, Partner, RelationshipKind
from partners.presentation import label

from . import notices, permissions, pricing, rules
from .models import (
    LIVE_ORDER_STATUSES,
    QUOTE_EDITABLE,
    ZERO,
    Order,
    OrderEvent,
    OrderLine,
    OrderSource,
    OrderStatus,
    PriceBook,
    ProvisioningRequest,
    ProvisioningStatus,
    Quote,
    QuoteLine,
    QuoteServiceLine,
    QuoteStatus,
    RuleSeverity,
)

DEFAULT_TERM_MONTHS = 12


def _setting(name, default):
    return getattr(settings, name, default)


def approval_threshold() -> Decimal:
    return Decimal(str(_setting("QUOTES_APPROVAL_THRESHOLD", "50000.00")))


def transition_error(kind, current, target):
    return ValidationError(
        {"status": [f"A {kind} cannot move from “{label(current)}” to “{label(target)}”."]}, code="illegal_transition"
    )


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _clean_discount(value, field="discount_percent") -> Decimal:
    value = Decimal(str(value if value not in (None, "") else "0"))
    if value < 0 or value > 100:
        raise ValidationError({field: ["A discount is a percentage between 0 and 100."]})
    return value


def _visible_customer(user, customer) -> Customer:
    found = Customer.objects.for_user(user).filter(pk=getattr(customer, "pk", customer)).first()
    if found is None:
        raise ValidationError({"customer": ["Choose one of your customers."]})
    return found


def _not_another_partners(customer, partner):
    """Parent staff quote and order for a partner: never on a customer another partner owns (one
    record per customer; the partner's own copy of it cannot exist, so this is the last door)."""
    if customer.owner_partner_id is not None and customer.owner_partner_id != partner.pk:
        raise ValidationError({"customer": ["This customer is owned by another partner."]})


def _price_book(price_book) -> PriceBook:
    book = price_book or pricing.default_price_book()
    if book is None:
        raise ValidationError({"price_book": ["There is no price book valid today."]})
    if not book.is_valid_on(timezone.localdate()):
        raise ValidationError({"price_book": ["This price book is not valid today."]})
    return book


def _build_lines(model, *, parent, partner, book, lines):
    """Price and create line rows; each line's net amount is rounded half-up to cents."""
    built = []
    for position, data in enumerate(lines, start=1):
        product = data["product"]
        if not product.active:
            raise ValidationError({"lines": [f"{product.sku} is no longer sold."]})
        quantity = int(data.get("quantity") or 0)
        if quantity < 1:
            raise ValidationError({"lines": ["Each line needs a quantity of at least 1."]})
        discount = _clean_discount(data.get("discount_percent"))
        unit_price = pricing.unit_price_for(partner=partner, price_book=book, product=product)
        term = data.get("term_months") or (DEFAULT_TERM_MONTHS if product.is_subscription else None)
        built.append(
            model(
                partner=partner,
                position=position,
                product=product,
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                net_amount=pricing.line_net(unit_price, quantity, discount),
                term_months=term if product.is_subscription else None,
                **parent,
            )
        )
    model.objects.bulk_create(built)
    return built


def _apply_totals(obj, line_amounts):
    result = pricing.totals(line_amounts, obj.header_discount_percent)
    obj.subtotal, obj.header_discount_amount, obj.total = result.subtotal, result.header_discount_amount, result.total


# Quotes ----------------------------------------------------------------------------------------------


def quote_approval_reasons(quote) -> list[str]:
    """Why a quote needs the parent's approval: a discount above the tier maximum, a large total."""
    lines = list(quote.lines.select_related("product"))
    reasons = pricing.discount_excesses(
        partner=quote.partner, lines=lines, header_discount_percent=quote.header_discount_percent
    )
    threshold = approval_threshold()
    if quote.total > threshold:
        reasons.append(f"The total {quote.total} {quote.currency} is above the approval threshold of {threshold}.")
    return reasons


def _first_order_open(partner, customer) -> bool:
    originated = CustomerRelationship.objects.filter(
        partner=partner, customer=customer, kind=RelationshipKind.ORIGINATING
    ).exists()
    return originated and not Order.objects.filter(customer=customer, status__in=LIVE_ORDER_STATUSES).exists()


@transaction.atomic
def quote_create(
    *,
    user,
    customer,
    partner=None,
    price_book=None,
    valid_until=None,
    header_discount_percent=ZERO,
    terms="",
    notes="",
    opportunity_ref="",
    opportunity=None,
    registration=None,
    lines=(),
) -> Quote:
    """A new quote. A partner whose agreement gives it no quote access creates a request instead,
    which the parent prices; a registration-parent-retains partner quotes only a customer's initial
    order, for a customer it registered."""
    actor = actor_of(user)
    if not permissions.can_create_quote(user):
        raise PermissionDenied("You may not create quotes.")
    customer = _visible_customer(user, customer)
    status = QuoteStatus.DRAFT
    if actor.is_partner:
        partner = actor.partner
        access = partner.agreement.quote_access
        if access == QuoteAccess.NONE:
            if lines:
                raise ValidationError(
                    {"lines": ["The parent prices your quote request: describe what the customer needs in notes."]}
                )
            status = QuoteStatus.REQUESTED
        elif access == QuoteAccess.INITIAL_ORDER and not _first_order_open(partner, customer):
            raise ValidationError(
                {"customer": ["Your agreement lets you quote only the initial order of a customer you registered."]}
            )
    else:
        partner = Partner.objects.for_user(user).filter(pk=getattr(partner, "pk", partner)).first()
        if partner is None:
            raise ValidationError({"partner": ["Choose the partner this quote is for."]})
        _not_another_partners(customer, partner)
    book = _price_book(price_book)
    if opportunity is not None or registration is not None:
        opportunity = choose_opportunity(
            user, partner=partner, customer=customer, opportunity=opportunity, registration=registration
        )
    else:
        opportunity = _legacy_opportunity(partner.pk, opportunity_ref)
    if opportunity is not None and not opportunity_ref:
        opportunity_ref = f"{OPPORTUNITY_REF}{opportunity.pk}"
    today = timezone.localdate()
    valid_until = valid_until or today + datetime.timedelta(days=_setting("QUOTES_VALIDITY_DAYS", 30))
    if valid_until < today:
        raise ValidationError({"valid_until": ["A quote is valid until today or later."]})
    quote = Quote(
        partner=partner,
        customer=customer,
        created_by=user,
        prepared_by_parent=actor.is_parent or status == QuoteStatus.REQUESTED,
        price_book=book,
        currency=book.currency,
        status=status,
        header_discount_percent=_clean_discount(header_discount_percent, "header_discount_percent"),
        valid_until=valid_until,
        terms=terms,
        notes=notes,
        opportunity_ref=opportunity_ref,
        opportunity=opportunity,
    )
    quote.full_clean()
    quote.save()
    built = _build_lines(QuoteLine, parent={"quote": quote}, partner=partner, book=book, lines=lines)
    _apply_totals(quote, [line.net_amount for line in built])
    quote.base_number = f"Q-{quote.pk:05d}"
    quote.save()
    audit.record(
        actor=user,
        verb="quote.request" if status == QuoteStatus.REQUESTED else "quote.create",
        obj=quote,
        partner=partner,
        changes={"status": [None, status], "total": [None, str(quote.total)]},
    )
    return quote


def _lock_quote(quote) -> Quote:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the joins (tier, agreement).
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("partner__agreement", "partner__tier")
        .get(pk=quote.pk)
    )


def _recompute_quote(quote):
    _apply_totals(quote, list(quote.lines.values_list("net_amount", flat=True)))
    quote.save()


@transaction.atomic
def quote_update(*, user, quote, lines=None, **fields) -> Quote:
    """Change an editable quote's header and (when given) replace its lines; totals are recomputed."""
    if not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("You may not change this quote.")
    quote = _lock_quote(quote)
    if quote.status not in QUOTE_EDITABLE:
        raise ValidationError({"status": [f"A quote that is {quote.status} cannot be changed; revise it."]})
    allowed = {"header_discount_percent", "valid_until", "terms", "notes", "opportunity_ref", "price_book"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    before = {name: getattr(quote, name) for name in fields} | {"total": quote.total}
    if "header_discount_percent" in fields:
        fields["header_discount_percent"] = _clean_discount(
            fields["header_discount_percent"], "header_discount_percent"
        )
    if "valid_until" in fields and fields["valid_until"] < timezone.localdate():
        raise ValidationError({"valid_until": ["A quote is valid until today or later."]})
    if "price_book" in fields:
        fields["price_book"] = _price_book(fields["price_book"])
        quote.currency = fields["price_book"].currency
        if lines is None:
            lines = [
                {"product": line.product, "quantity": line.quantity, "discount_percent": line.discount_percent}
                for line in quote.lines.select_related("product")
            ]
    for name, value in fields.items():
        setattr(quote, name, value)
    if lines is not None:
        quote.lines.all().delete()
        _build_lines(QuoteLine, parent={"quote": quote}, partner=quote.partner, book=quote.price_book, lines=lines)
    _recompute_quote(quote)
    changes = audit.diff(before, {name: getattr(quote, name) for name in before})
    if lines is not None:
        changes["lines"] = [None, len(lines)]
    audit.record(actor=user, verb="quote.update", obj=quote, partner=quote.partner, changes=changes)
    return quote


@transaction.atomic
def quote_line_add(*, user, quote, product, quantity, discount_percent=ZERO, term_months=None) -> QuoteLine:
    if not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("You may not change this quote.")
    quote = _lock_quote(quote)
    if quote.status not in QUOTE_EDITABLE:
        raise ValidationError({"status": [f"A quote that is {quote.status} cannot be changed; revise it."]})
    (line,) = _build_lines(
        QuoteLine,
        parent={"quote": quote},
        partner=quote.partner,
        book=quote.price_book,
        lines=[
            {"product": product, "quantity": quantity, "discount_percent": discount_percent, "term_months": term_months}
        ],
    )
    line.position = quote.lines.count()
    line.save(update_fields=["position"])
    _recompute_quote(quote)
    audit.record(
        actor=user,
        verb="quote.line_add",
        obj=quote,
        partner=quote.partner,
        changes={"line": [None, f"{quantity} × {product.sku} at {line.unit_price} less {line.discount_percent}%"]},
    )
    return line


@transaction.atomic
def quote_line_remove(*, user, quote, line_id) -> Quote:
    if not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("You may not change this quote.")
    quote = _lock_quote(quote)
    if quote.status not in QUOTE_EDITABLE:
        raise ValidationError({"status": [f"A quote that is {quote.status} cannot be changed; revise it."]})
    line = quote.lines.filter(pk=line_id).first()
    if line is None:
        raise ValidationError({"line": ["No such line on this quote."]})
    line.delete()
    _recompute_quote(quote)
    audit.record(
        actor=user, verb="quote.line_remove", obj=quote, partner=quote.partner, changes={"line": [line_id, None]}
    )
    return quote


def _recompute_services(quote):
    total = sum((line.net_amount for line in quote.service_lines.all()), ZERO)
    Quote.objects.filter(pk=quote.pk).update(services_total=total)
    quote.services_total = total


@transaction.atomic
def quote_service_line_add(*, user, quote, description, quantity, unit_price, tax_category) -> QuoteServiceLine:
    """A white-label partner adds one of its own services to its quote: billed by the partner, so it
    stays out of the quote's total, its discount rules and approval threshold, the order sent to the
    parent and provisioning, and every commission."""
    if not permissions.can_add_own_services(user, quote):
        raise PermissionDenied("Only a partner-branded (white-label) partner adds its own services to its quotes.")
    quote = _lock_quote(quote)
    if quote.status not in QUOTE_EDITABLE:
        raise ValidationError({"status": [f"A quote that is {quote.status} cannot be changed; revise it."]})
    errors = {}
    if not (description or "").strip():
        errors["description"] = ["Describe the service."]
    if not (tax_category or "").strip():
        errors["tax_category"] = ["Give your tax category for this service."]
    if not isinstance(quantity, int) or quantity < 1:
        errors["quantity"] = ["A quantity of at least 1."]
    try:
        unit_price = pricing.cents(Decimal(str(unit_price)))
    except (ArithmeticError, ValueError):
        errors["unit_price"] = ["A price in the quote's currency."]
    else:
        if unit_price < 0:
            errors["unit_price"] = ["A price is never negative."]
    if errors:
        raise ValidationError(errors)
    line = QuoteServiceLine.objects.create(
        quote=quote,
        partner_id=quote.partner_id,
        position=quote.service_lines.count() + 1,
        description=description.strip()[:200],
        quantity=quantity,
        unit_price=unit_price,
        tax_category=tax_category.strip()[:40],
        net_amount=pricing.cents(unit_price * quantity),
    )
    _recompute_services(quote)
    audit.record(
        actor=user,
        verb="quote.service_line_add",
        obj=quote,
        partner=quote.partner,
        changes={"service_line": [None, f"{quantity} × {line.description} at {unit_price} ({line.tax_category})"]},
    )
    return line


@transaction.atomic
def quote_service_line_remove(*, user, quote, line_id) -> Quote:
    if not permissions.can_add_own_services(user, quote):
        raise PermissionDenied("Only a partner-branded (white-label) partner changes its own services.")
    quote = _lock_quote(quote)
    if quote.status not in QUOTE_EDITABLE:
        raise ValidationError({"status": [f"A quote that is {quote.status} cannot be changed; revise it."]})
    line = quote.service_lines.filter(pk=line_id).first()
    if line is None:
        raise ValidationError({"line": ["No such service on this quote."]})
    line.delete()
    _recompute_services(quote)
    audit.record(
        actor=user,
        verb="quote.service_line_remove",
        obj=quote,
        partner=quote.partner,
        changes={"service_line": [line_id, None]},
    )
    return quote


def _move_quote(*, user, quote, status, reason="", verb=None, **fields) -> Quote:
    if not quote.can_transition_to(status):
        raise transition_error("quote", quote.status, status)
    before = quote.status
    quote.status = status
    for name, value in fields.items():
        setattr(quote, name, value)
    quote.save()
    audit.record(
        actor=user,
        verb=verb or f"quote.{status}",
        obj=quote,
        partner=quote.partner,
        changes={"status": [before, status]},
        reason=reason,
    )
    notices.quote_moved(quote)
    return quote


@transaction.atomic
def quote_submit(*, user, quote) -> Quote:
    """Ask for approval when a discount or the total is beyond the partner's limits; a quote within
    its limits is approved at once."""
    if not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("You may not submit this quote.")
    quote = _lock_quote(quote)
    if quote.status not in QUOTE_EDITABLE:
        raise transition_error("quote", quote.status, QuoteStatus.PENDING_APPROVAL)
    if not quote.lines.exists():
        raise ValidationError({"lines": ["Add at least one line first."]})
    reasons = quote_approval_reasons(quote)
    quote.approval_reasons = reasons
    _move_quote(user=user, quote=quote, status=QuoteStatus.PENDING_APPROVAL, verb="quote.submit")
    if reasons:
        return quote
    return _move_quote(
        user=user,
        quote=quote,
        status=QuoteStatus.APPROVED,
        verb="quote.auto_approve",
        reason="Within the partner's discount limits and the approval threshold.",
        decided_at=timezone.now(),
    )


def _decide(*, user, quote, status, reason):
    if not permissions.can_decide_quote(user, quote):
        raise PermissionDenied("Only the parent's quote desk decides on quote approvals.")
    quote = _lock_quote(quote)
    if status != QuoteStatus.APPROVED and not reason.strip():
        raise ValidationError({"reason": ["Say why."]})
    return _move_quote(
        user=user,
        quote=quote,
        status=status,
        reason=reason,
        decided_by=user,
        decided_at=timezone.now(),
        decision_reason=reason,
    )


@transaction.atomic
def quote_approve(*, user, quote, reason="") -> Quote:
    return _decide(user=user, quote=quote, status=QuoteStatus.APPROVED, reason=reason)


@transaction.atomic
def quote_reject(*, user, quote, reason) -> Quote:
    return _decide(user=user, quote=quote, status=QuoteStatus.REJECTED, reason=reason)


@transaction.atomic
def quote_return(*, user, quote, reason) -> Quote:
    return _decide(user=user, quote=quote, status=QuoteStatus.RETURNED, reason=reason)


@transaction.atomic
def quote_send(*, user, quote) -> Quote:
    """Send to the customer: an approved quote, or a draft within the partner's limits."""
    if not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("You may not send this quote.")
    quote = _lock_quote(quote)
    if not quote.can_transition_to(QuoteStatus.SENT):
        raise transition_error("quote", quote.status, QuoteStatus.SENT)
    if quote.status in QUOTE_EDITABLE:
        if not quote.lines.exists():
            raise ValidationError({"lines": ["Add at least one line first."]})
        reasons = quote_approval_reasons(quote)
        if reasons:
            raise ValidationError({"status": ["This quote needs approval first; submit it.", *reasons]})
    if quote.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": ["The quote's validity has passed; revise it."]})
    return _move_quote(user=user, quote=quote, status=QuoteStatus.SENT, sent_at=timezone.now())


@transaction.atomic
def quote_accept(*, user, quote) -> Quote:
    """The customer accepted: every other version of the quote is superseded."""
    if not permissions.can_answer_quote(user, quote):
        raise PermissionDenied("You may not record the customer's answer.")
    quote = _lock_quote(quote)
    if not quote.can_transition_to(QuoteStatus.ACCEPTED):
        raise transition_error("quote", quote.status, QuoteStatus.ACCEPTED)
    if quote.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": ["The quote has expired."]})
    _move_quote(user=user, quote=quote, status=QuoteStatus.ACCEPTED, answered_at=timezone.now())
    others = Quote.objects.select_for_update().filter(chain=quote.chain).exclude(pk=quote.pk)
    for other in others:
        if other.can_transition_to(QuoteStatus.SUPERSEDED):
            _move_quote(user=user, quote=other, status=QuoteStatus.SUPERSEDED, reason=f"{quote.number} was accepted.")
    return quote


@transaction.atomic
def quote_decline(*, user, quote, reason="") -> Quote:
    if not permissions.can_answer_quote(user, quote):
        raise PermissionDenied("You may not record the customer's answer.")
    quote = _lock_quote(quote)
    return _move_quote(user=user, quote=quote, status=QuoteStatus.DECLINED, reason=reason, answered_at=timezone.now())


@transaction.atomic
def quote_revise(*, user, quote) -> Quote:
    """A new version with the same lines, as a draft; this version is superseded."""
    if not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("You may not revise this quote.")
    quote = _lock_quote(quote)
    if not quote.can_transition_to(QuoteStatus.SUPERSEDED):
        raise transition_error("quote", quote.status, QuoteStatus.SUPERSEDED)
    today = timezone.localdate()
    new = Quote.objects.create(
        partner=quote.partner,
        customer=quote.customer,
        created_by=quote.created_by or user,
        prepared_by_parent=quote.prepared_by_parent,
        price_book=quote.price_book,
        currency=quote.currency,
        chain=quote.chain,
        version=quote.version + 1,
        base_number=quote.base_number or f"Q-{quote.pk:05d}",
        previous=quote,
        opportunity_ref=quote.opportunity_ref,
        opportunity_id=quote.opportunity_id,
        status=QuoteStatus.DRAFT,
        header_discount_percent=quote.header_discount_percent,
        valid_until=max(quote.valid_until, today + datetime.timedelta(days=_setting("QUOTES_VALIDITY_DAYS", 30))),
        terms=quote.terms,
        notes=quote.notes,
    )
    QuoteLine.objects.bulk_create(QuoteLine(quote=new, **_line_values(line)) for line in quote.lines.all())
    QuoteServiceLine.objects.bulk_create(
        QuoteServiceLine(
            quote=new,
            partner_id=line.partner_id,
            position=line.position,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_category=line.tax_category,
            net_amount=line.net_amount,
        )
        for line in quote.service_lines.all()
    )
    _recompute_services(new)
    _recompute_quote(new)
    _move_quote(user=user, quote=quote, status=QuoteStatus.SUPERSEDED, reason=f"Revised as version {new.version}.")
    audit.record(
        actor=user, verb="quote.revise", obj=new, partner=new.partner, changes={"version": [quote.version, new.version]}
    )
    return new


@transaction.atomic
def quote_expire(*, quote_id, today=None) -> bool:
    """System: a sent quote past its validity date expires. Safe to run twice."""
    quote = Quote.objects.select_for_update().select_related("partner").filter(pk=quote_id).first()
    today = today or timezone.localdate()
    if quote is None or quote.status != QuoteStatus.SENT or quote.valid_until >= today:
        return False
    _move_quote(user=None, quote=quote, status=QuoteStatus.EXPIRED, reason="The validity date passed.")
    return True


@transaction.atomic
def quotes_expire_due(*, today=None, limit: int = 1000) -> int:
    """System, set-based: up to `limit` sent quotes past their validity date expire in one UPDATE,
    with one audit event each (one INSERT). Safe to run twice: the second run finds none."""
    today = today or timezone.localdate()
    due = list(
        Quote.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=QuoteStatus.SENT, valid_until__lt=today)
        .order_by("valid_until", "pk")
        .values_list("pk", "partner_id", "base_number", "version", "customer__legal_name")[:limit]
    )
    if not due:
        return 0
    Quote.objects.filter(pk__in=[row[0] for row in due], status=QuoteStatus.SENT).update(
        status=QuoteStatus.EXPIRED, updated_at=timezone.now()
    )
    audit.record_many(
        actor=None,
        verb=f"quote.{QuoteStatus.EXPIRED}",
        model=Quote,
        rows=[
            (pk, partner_id, f"{base or f'Q-{pk:05d}'}-v{version} {customer}")
            for pk, partner_id, base, version, customer in due
        ],
        changes={"status": [QuoteStatus.SENT, QuoteStatus.EXPIRED]},
        reason="The validity date passed.",
    )
    return len(due)


# Orders --------------------------------------------------------------------------------------------------


def _record_order_event(order, before, after, user=None, reason=""):
    OrderEvent.objects.create(
        order=order,
        partner_id=order.partner_id,
        from_status=before or "",
        to_status=after,
        actor=user if getattr(user, "pk", None) else None,
        reason=reason,
    )


def _move_order(*, user, order, status, reason="", verb=None, **fields) -> Order:
    if not order.can_transition_to(status):
        raise transition_error("order", order.status, status)
    before = order.status
    order.status = status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()
    _record_order_event(order, before, status, user, reason)
    audit.record(
        actor=user,
        verb=verb or f"order.{status}",
        obj=order,
        partner=order.partner_id,
        changes={"status": [before, status]},
        reason=reason,
    )
    notices.order_moved(order)
    return order


def _lock_order(order) -> Order:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("partner__agreement", "partner__tier", "customer")
        .get(pk=getattr(order, "pk", order))
    )


def _order_partner(user, partner):
    actor = actor_of(user)
    if actor.is_partner:
        return actor.partner, False
    found = Partner.objects.for_user(user).filter(pk=getattr(partner, "pk", partner)).first()
    if found is None:
        raise ValidationError({"partner": ["Choose the partner this order is for."]})
    return found, True


@transaction.atomic
def order_create(
    *,
    user,
    customer,
    lines,
    partner=None,
    price_book=None,
    header_discount_percent=ZERO,
    external_ref="",
    source=OrderSource.API,
    opportunity=None,
) -> Order:
    """An order placed directly (an integrator's own sales system, or the portal), as a draft. It is
    for the opportunity the caller chooses (scoped), or the partner's one open opportunity for the
    customer; with several open, the caller must choose (one sale, one commission)."""
    if not permissions.can_create_order(user):
        raise PermissionDenied("Your agreement does not let you place orders.")
    partner, by_parent = _order_partner(user, partner)
    customer = _visible_customer(user, customer)
    if by_parent:
        _not_another_partners(customer, partner)
    if not lines:
        raise ValidationError({"lines": ["An order needs at least one line."]})
    if external_ref and Order.objects.for_partner(partner.pk).filter(external_ref=external_ref).exists():
        raise ValidationError({"external_ref": ["An order with this reference exists already."]})
    book = _price_book(price_book)
    opportunity = _order_opportunity(user, partner=partner, customer=customer, opportunity=opportunity)
    order = Order(
        partner=partner,
        customer=customer,
        opportunity=opportunity,
        created_by=user,
        placed_by_parent=by_parent,
        source=source,
        external_ref=external_ref,
        price_book=book,
        currency=book.currency,
        header_discount_percent=_clean_discount(header_discount_percent, "header_discount_percent"),
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise ValidationError({"external_ref": ["An order with this reference exists already."]})
    built = _build_lines(OrderLine, parent={"order": order}, partner=partner, book=book, lines=lines)
    _apply_totals(order, [line.net_amount for line in built])
    order.save()
    _record_order_event(order, "", OrderStatus.DRAFT, user)
    audit.record(
        actor=user,
        verb="order.create",
        obj=order,
        partner=partner,
        changes={"status": [None, OrderStatus.DRAFT], "total": [None, str(order.total)]},
    )
    return order


def _order_opportunity(user, *, partner, customer, opportunity):
    from deals.models import OPEN_STAGES, Opportunity

    if opportunity is not None:
        return choose_opportunity(user, partner=partner, customer=customer, opportunity=opportunity)
    open_ones = list(
        Opportunity.objects.for_partner(partner.pk)
        .filter(customer=customer, stage__in=OPEN_STAGES)
        .values_list("pk", flat=True)[:2]
    )
    if len(open_ones) > 1:
        raise ValidationError(
            {"opportunity": ["The partner has several open opportunities for this customer: choose the one sold."]}
        )
    return Opportunity.objects.get(pk=open_ones[0]) if open_ones else None


@transaction.atomic
def order_create_from_quote(*, user, quote) -> Order:
    """Place the order of an accepted quote (once: a quote has at most one order)."""
    if not permissions.can_create_order(user) and not permissions.can_edit_quote(user, quote):
        raise PermissionDenied("Your agreement does not let you place orders.")
    actor = actor_of(user)
    quote = _lock_quote(quote)
    if actor.is_partner and (quote.partner_id != actor.partner_id or not permissions.can_create_order(user)):
        raise PermissionDenied("Your agreement does not let you place orders.")
    if quote.status != QuoteStatus.ACCEPTED:
        raise ValidationError({"quote": ["Only an accepted quote becomes an order."]})
    if Order.objects.filter(quote=quote).exists():
        raise ValidationError({"quote": ["This quote has been ordered already."]})
    order = Order.objects.create(
        partner=quote.partner,
        customer=quote.customer,
        quote=quote,
        opportunity=quote.opportunity or _legacy_opportunity(quote.partner_id, quote.opportunity_ref),
        created_by=user,
        placed_by_parent=actor.is_parent,
        source=OrderSource.QUOTE,
        price_book=quote.price_book,
        currency=quote.currency,
        header_discount_percent=quote.header_discount_percent,
        subtotal=quote.subtotal,
        header_discount_amount=quote.header_discount_amount,
        total=quote.total,
    )
    OrderLine.objects.bulk_create(OrderLine(order=order, **_line_values(line)) for line in quote.lines.all())
    _record_order_event(order, "", OrderStatus.DRAFT, user, reason=f"From quote {quote.number}.")
    audit.record(
        actor=user,
        verb="order.create",
        obj=order,
        partner=order.partner,
        changes={"status": [None, OrderStatus.DRAFT], "quote": [None, quote.pk], "total": [None, str(order.total)]},
    )
    return order


@transaction.atomic
def order_update(*, user, order, lines=None, header_discount_percent=None, external_ref=None) -> Order:
    if not permissions.can_change_order(user, order):
        raise PermissionDenied("You may not change this order.")
    order = _lock_order(order)
    if order.status != OrderStatus.DRAFT:
        raise ValidationError({"status": ["Only a draft order can be changed."]})
    if order.quote_id and (lines is not None or header_discount_percent is not None):
        raise ValidationError({"lines": ["An order from a quote keeps the quote's lines; revise the quote."]})
    before = {"header_discount_percent": order.header_discount_percent, "external_ref": order.external_ref}
    if header_discount_percent is not None:
        order.header_discount_percent = _clean_discount(header_discount_percent, "header_discount_percent")
    if external_ref is not None:
        if (
            external_ref
            and Order.objects.for_partner(order.partner_id)
            .filter(external_ref=external_ref)
            .exclude(pk=order.pk)
            .exists()
        ):
            raise ValidationError({"external_ref": ["An order with this reference exists already."]})
        order.external_ref = external_ref
    if lines is not None:
        if not lines:
            raise ValidationError({"lines": ["An order needs at least one line."]})
        order.lines.all().delete()
        book = _price_book(order.price_book)
        if book.currency != order.currency:
            raise ValidationError({"lines": ["The order's price book changed currency; place a new order."]})
        _build_lines(OrderLine, parent={"order": order}, partner=order.partner, book=book, lines=lines)
    _apply_totals(order, list(order.lines.values_list("net_amount", flat=True)))
    order.save()
    changes = audit.diff(
        before, {"header_discount_percent": order.header_discount_percent, "external_ref": order.external_ref}
    )
    if lines is not None:
        changes["lines"] = [None, len(lines)]
    audit.record(actor=user, verb="order.update", obj=order, partner=order.partner, changes=changes)
    return order


def _auto_approve() -> bool:
    return bool(_setting("QUOTES_ORDER_AUTO_APPROVE", True))


@transaction.atomic
def order_submit(*, user, order) -> Order:
    """Evaluate the business rules. Any failed blocking rule refuses the order (400, nothing written,
    every failed rule named); a failed review rule sends it to manual review; otherwise it is approved
    and handed to provisioning."""
    if not permissions.can_change_order(user, order):
        raise PermissionDenied("You may not submit this order.")
    order = _lock_order(order)
    if order.status != OrderStatus.DRAFT:
        raise transition_error("order", order.status, OrderStatus.SUBMITTED)
    if not order.lines.exists():
        raise ValidationError({"lines": ["An order needs at least one line."]})
    results = rules.evaluate(order)
    blocking = [r for r in results if not r["passed"] and r["severity"] == RuleSeverity.BLOCKING]
    if blocking:
        raise ValidationError(
            {
                "rules": [f"{r['rule']}: {' '.join(r['messages'])}" for r in blocking],
                "failed_rules": [r["rule"] for r in blocking],
            },
            code="rules_failed",
        )
    review = [r for r in results if not r["passed"]]
    order.rule_results = results
    order.review_reasons = [f"{r['rule']}: {' '.join(r['messages'])}" for r in review]
    _move_order(user=user, order=order, status=OrderStatus.SUBMITTED, submitted_at=timezone.now())
    _tell_opportunity(user=user, order=order)
    fraud.check_on_commit("order_placed", order)
    if review:
        return _move_order(user=user, order=order, status=OrderStatus.IN_REVIEW, reason="; ".join(order.review_reasons))
    if _auto_approve():
        _move_order(
            user=user,
            order=order,
            status=OrderStatus.APPROVED,
            verb="order.auto_approve",
            reason="Every business rule passed.",
            decided_at=timezone.now(),
        )
        _hand_off(order)
    return order


LINE_FIELDS = (
    "partner_id",
    "position",
    "product_id",
    "quantity",
    "unit_price",
    "discount_percent",
    "net_amount",
    "term_months",
)


def _line_values(line) -> dict:
    """A quote line's priced content, to copy into a new version or an order."""
    return {name: getattr(line, name) for name in LINE_FIELDS}


OPPORTUNITY_REF = "opportunity:"


def _legacy_opportunity(partner_id, ref):
    """The opportunity a free-text `opportunity_ref` ("opportunity:<id>") names, if the partner's."""
    from deals.models import Opportunity

    ref = ref or ""
    if not ref.startswith(OPPORTUNITY_REF) or not ref[len(OPPORTUNITY_REF) :].isdigit():
        return None
    return Opportunity.objects.for_partner(partner_id).filter(pk=int(ref[len(OPPORTUNITY_REF) :])).first()


def choose_opportunity(user, *, partner, customer, opportunity=None, registration=None, field="opportunity"):
    """The opportunity a quote or order is for, chosen by the caller (scoped: one it may see, of the
    same partner, open, for the same customer), or the approved registration's opportunity."""
    from deals.models import DealRegistration, Opportunity

    if registration is not None:
        registration = DealRegistration.objects.for_user(user).filter(pk=getattr(registration, "pk", registration))
        registration = registration.select_related("opportunity").first()
        opportunity = getattr(registration, "opportunity", None) if registration is not None else None
        if opportunity is None:
            raise ValidationError({"registration": ["Choose one of your approved registrations."]})
        field = "registration"
    elif opportunity is not None:
        opportunity = Opportunity.objects.for_user(user).filter(pk=getattr(opportunity, "pk", opportunity)).first()
        if opportunity is None:
            raise ValidationError({field: ["Choose one of your opportunities."]})
    if opportunity is None:
        return None
    if opportunity.partner_id != partner.pk:
        raise ValidationError({field: ["This opportunity is another partner's."]})
    if not opportunity.is_open:
        raise ValidationError({field: ["This opportunity is closed."]})
    if opportunity.customer_id is not None and opportunity.customer_id != customer.pk:
        raise ValidationError({field: ["This opportunity is for another customer."]})
    return opportunity


def linked_opportunity(order):
    """The deals opportunity this order is for (the foreign key)."""
    return order.opportunity if order.opportunity_id else None


def _tell_opportunity(*, user, order):
    """An order placed for an opportunity opens the partner's pipeline to a parent that sees it only
    once an order is placed (Agreement.pipeline_visibility)."""
    from deals.services import opportunity_mark_order_placed

    opportunity = linked_opportunity(order)
    if opportunity is not None:
        opportunity_mark_order_placed(user=user, opportunity=opportunity)


def _hand_off(order):
    """Write the outbox row of the next provisioning run and enqueue its task after commit."""
    from .tasks import provision_order

    run = order.provisioning_requests.count() + 1
    request = ProvisioningRequest.objects.create(
        order=order, partner_id=order.partner_id, run=run, payload=provisioning_payload(order, run)
    )
    transaction.on_commit(lambda: provision_order.delay(request.pk))
    return request


def provisioning_payload(order, run) -> dict:
    return {
        "event": "order.approved",
        "idempotency_key": f"order:{order.pk}:run:{run}",
        "order": {
            "id": order.pk,
            "number": order.number,
            "partner": order.partner.slug,
            "customer": {"id": order.customer_id, "name": order.customer.legal_name, "country": order.customer.country},
            "currency": order.currency,
            "total": str(order.total),
            "lines": [
                {
                    "sku": line.product.sku,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "discount_percent": str(line.discount_percent),
                    "net_amount": str(line.net_amount),
                    "term_months": line.term_months,
                }
                for line in order.lines.select_related("product")
            ],
        },
    }


@transaction.atomic
def order_approve(*, user, order, reason="") -> Order:
    if not permissions.can_review_order(user, order):
        raise PermissionDenied("Only the parent's order desk approves orders.")
    order = _lock_order(order)
    _move_order(
        user=user, order=order, status=OrderStatus.APPROVED, reason=reason, decided_by=user, decided_at=timezone.now()
    )
    _hand_off(order)
    return order


@transaction.atomic
def order_decline(*, user, order, reason) -> Order:
    if not permissions.can_review_order(user, order):
        raise PermissionDenied("Only the parent's order desk declines orders.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the order is declined."]})
    order = _lock_order(order)
    return _move_order(
        user=user,
        order=order,
        status=OrderStatus.DECLINED,
        reason=reason,
        decline_reason=reason,
        decided_by=user,
        decided_at=timezone.now(),
    )


@transaction.atomic
def order_cancel(*, user, order, reason="") -> Order:
    """Cancel before provisioning starts."""
    if not (permissions.can_change_order(user, order) or permissions.can_review_order(user, order)):
        raise PermissionDenied("You may not cancel this order.")
    order = _lock_order(order)
    order = _move_order(user=user, order=order, status=OrderStatus.CANCELLED, reason=reason)
    order.provisioning_requests.filter(status=ProvisioningStatus.PENDING).update(
        status=ProvisioningStatus.FAILED, last_error="Order cancelled."
    )
    from renewals.services import renewal_order_cancelled

    renewal_order_cancelled(order=order)  # a renewal order's renewal reopens
    return order


@transaction.atomic
def order_retry(*, user, order) -> Order:
    """Hand a failed order to provisioning again (a new outbox run)."""
    if not permissions.can_review_order(user, order):
        raise PermissionDenied("Only the parent's order desk retries provisioning.")
    order = _lock_order(order)
    if order.status != OrderStatus.FAILED:
        raise transition_error("order", order.status, OrderStatus.PROVISIONING)
    audit.record(actor=user, verb="order.retry", obj=order, partner=order.partner_id)
    _hand_off(order)
    return order


# Provisioning (called by the task) -------------------------------------------------------------------


def max_attempts() -> int:
    return int(_setting("QUOTES_PROVISIONING_MAX_ATTEMPTS", 5))


def backoff_seconds(attempt: int) -> int:
    return int(_setting("QUOTES_PROVISIONING_BACKOFF_SECONDS", 30)) * 2 ** max(attempt - 1, 0)


@transaction.atomic
def provisioning_run(*, request_id) -> str:
    """Run one outbox row: call the adapter, then fulfil the order or count the failed attempt.
    Returns what happened: "done", "retry", "failed" or "skipped" (gone, done already, or the order
    is no longer waiting)."""
    from .provisioning import ProvisioningError, get_adapter

    # Lock the order before its outbox row, as every other writer of both does (no deadlock).
    order_id = ProvisioningRequest.objects.filter(pk=request_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return "skipped"
    order = _lock_order(order_id)
    request = ProvisioningRequest.objects.select_for_update().get(pk=request_id)
    if request.status != ProvisioningStatus.PENDING:
        return "skipped"
    grace = datetime.timedelta(seconds=1)  # a countdown may fire a little early
    if request.next_attempt_at is not None and request.next_attempt_at > timezone.now() + grace:
        return "not_due"  # an early duplicate delivery must not skip the backoff
    if order.status in (OrderStatus.APPROVED, OrderStatus.FAILED):
        _move_order(user=None, order=order, status=OrderStatus.PROVISIONING, verb="order.provisioning")
    if order.status != OrderStatus.PROVISIONING:
        return "skipped"
    adapter = get_adapter()
    request.adapter = adapter.name
    request.attempts += 1
    try:
        external_id = adapter.provision(order=order, request=request)
    except ProvisioningError as exc:
        request.last_error = str(exc)[:2000]
        if request.attempts >= max_attempts():
            request.status = ProvisioningStatus.FAILED
            request.completed_at = timezone.now()
            request.save()
            _move_order(
                user=None,
                order=order,
                status=OrderStatus.FAILED,
                reason=request.last_error,
                failure_reason=request.last_error,
            )
            return "failed"
        delay = backoff_seconds(request.attempts)
        request.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
        request.save()
        from .tasks import provision_order

        transaction.on_commit(lambda: provision_order.apply_async(args=[request.pk], countdown=delay))
        return "retry"
    request.status = ProvisioningStatus.DONE
    request.external_id = str(external_id or "")[:120]
    request.completed_at = timezone.now()
    request.last_error = ""
    request.save()
    order_fulfil(order=order)
    return "done"


@transaction.atomic
def order_fulfil(*, order) -> Order:
    """Provisioning succeeded: keep the subscription terms, record the customer relationship, make the
    customer active and accrue the closed-deal commission the agreement promises."""
    order = _move_order(user=None, order=order, status=OrderStatus.FULFILLED, fulfilled_at=timezone.now())
    start = timezone.localdate()
    for line in order.lines.all():
        if line.term_months:
            line.term_start = start
            line.term_end = add_months(start, line.term_months) - datetime.timedelta(days=1)
            line.save(update_fields=["term_start", "term_end"])
    partner, customer = order.partner, order.customer
    agreement = partner.agreement
    from partners.services import customer_relationship_add

    # A partner that serves its customers services this one now; otherwise it keeps (or gains) the
    # originating relationship that shows it the account and its initial order.
    kind = RelationshipKind.ORIGINATING
    if agreement.service_model != ServiceModel.PARENT_ONLY:
        kind = RelationshipKind.SERVICING
    customer_relationship_add(user=None, customer=customer, partner=partner, kind=kind)
    if customer.status != CustomerStatus.ACTIVE:
        before = customer.status
        Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ACTIVE)
        audit.record(
            actor=None,
            verb="customer.activate",
            obj=customer,
            partner=partner,
            changes={"status": [before, CustomerStatus.ACTIVE]},
            reason=f"Order {order.number} fulfilled.",
        )
    from deals.services import opportunity_win_by_order
    from renewals.services import contract_record_fulfilment, renewal_of_order

    # A renewal order renews a contract (and earns the renewal commission); any other order proves a
    # sale: its opportunity closes as won at the order's value, and the one commission of the sale
    # accrues there, keyed on the opportunity (deals owns the rule).
    if order.opportunity_id is not None or renewal_of_order(order) is None:
        opportunity_win_by_order(order=order)
    contract_record_fulfilment(order=order)  # subscription lines become (or extend) contracts
    return order


# Channel configuration (admin) ---------------------------------------------------------------------------


def config_save(*, user, obj, changed_fields=()) -> object:
    """Products, price books and their entries, discount schedules, partner prices, business rules:
    the parent's admins, sales and finance maintain them."""
    from partners.access import ParentRole

    return partner_services.config_save(
        user=user, obj=obj, changed_fields=changed_fields, roles=(ParentRole.SALES, ParentRole.FINANCE)
    )


def config_delete(*, user, obj) -> None:
    from partners.access import ParentRole

    partner_services.config_delete(user=user, obj=obj, roles=(ParentRole.SALES, ParentRole.FINANCE))
