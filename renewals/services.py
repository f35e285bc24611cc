"""Every write to contracts and renewals. Fulfilment records contracts (and renewal orders extend
them), the periodic scan opens renewals and schedules reminders set-based, the reminder task sends
each (renewal, milestone, recipient) once, and people quote, pursue, assign and lapse renewals."""

import datetime
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from partners import audit
from partners.access import PartnerRole, actor_of
from partners.agreement import RenewalOwner
from partners.ledger import percentage
from partners.models import (
    Commission,
    CommissionSource,
    CommissionStatus,
    CustomerRelationship,
    Membership,
    RelationshipKind,
)
from partners.notifications import notify, parent_recipients, partner_recipients

from . import conf, permissions
from .models import (
    CONTRACT_TRANSITIONS,
    LIVE_CONTRACT_STATUSES,
    MILESTONES,
    OPEN_RENEWAL_STATUSES,
    Contract,
    ContractLine,
    ContractStatus,
    LapseReason,
    OwnerSide,
    Renewal,
    RenewalOutcome,
    RenewalReminder,
    RenewalStatus,
    TimingRule,
)

CENT = Decimal("0.01")
RENEWAL_REF = "renewal:"


def _cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _add_months(day, months):
    from quotes.services import add_months

    return add_months(day, months)


def annual_value_of(line) -> Decimal:
    """What one order line is worth per year: its net amount covers its term."""
    months = line.term_months or 12
    return _cents(Decimal(line.net_amount) * 12 / months)


def transition_error(kind, current, target):
    return ValidationError(
        {"status": [f"A {kind} cannot move from '{current}' to '{target}'."]}, code="illegal_transition"
    )


def _move_contract(contract, status, *, actor=None, reason=""):
    if status != contract.status and status not in CONTRACT_TRANSITIONS[ContractStatus(contract.status)]:
        raise transition_error("contract", contract.status, status)
    before = contract.status
    contract.status = status
    contract.save()
    audit.record(
        actor=actor,
        verb=f"contract.{status}",
        obj=contract,
        partner=contract.partner_id,
        changes={"status": [before, status]},
        reason=reason,
    )


def _move_renewal(renewal, status, *, actor=None, reason="", verb=None, **fields):
    if not renewal.can_transition_to(status):
        raise transition_error("renewal", renewal.status, status)
    before = renewal.status
    renewal.status = status
    for name, value in fields.items():
        setattr(renewal, name, value)
    renewal.save()
    audit.record(
        actor=actor,
        verb=verb or f"renewal.{status}",
        obj=renewal,
        partner=renewal.partner_id,
        changes={"status": [before, status]},
        reason=reason,
    )
    return renewal


# Contracts from fulfilled orders -------------------------------------------------------------------


def _originating_partner_id(order) -> int:
    originating = (
        CustomerRelationship.objects.filter(customer_id=order.customer_id, kind=RelationshipKind.ORIGINATING)
        .order_by("since", "id")
        .values_list("partner_id", flat=True)
        .first()
    )
    return originating or order.partner_id


def renewal_of_order(order):
    """The renewal an order renews: its quote names it ("renewal:<id>", kept by every revision), or
    belongs to the chain of the renewal's latest quote. Only a renewal of the order's own partner and
    customer counts."""
    if not order.quote_id:
        return None
    renewals = (
        Renewal.objects.for_partner(order.partner_id)
        .select_for_update(of=("self",))
        .filter(customer_id=order.customer_id)
        .select_related("contract")
    )
    ref = order.quote.opportunity_ref or ""
    if ref.startswith(RENEWAL_REF) and ref[len(RENEWAL_REF) :].isdigit():
        return renewals.filter(pk=int(ref[len(RENEWAL_REF) :])).first()
    return renewals.filter(quote__chain=order.quote.chain).first()


@transaction.atomic
def contract_record_fulfilment(*, order) -> list:
    """Called by quotes' order fulfilment once the order lines have their terms. A renewal order extends
    its contract by the new term; any other order's subscription lines start a contract per product
    line, or join the customer's live contract co-termed (ending on its end date, prorated). Each order
    line is recorded once (its contract line is the idempotency key)."""
    lines = [
        line
        for line in order.lines.select_related("product").order_by("position", "id")
        if line.term_end is not None and not ContractLine.objects.filter(order_line=line).exists()
    ]
    if not lines:
        return []
    renewal = renewal_of_order(order)
    if renewal is not None and renewal.is_open:
        return [_renew_contract(renewal=renewal, order=order, lines=lines)]
    touched = {}
    originating_id = _originating_partner_id(order)
    for line in lines:
        product_line_id = line.product.product_line_id
        contract = (
            Contract.objects.for_partner(order.partner_id)
            .select_for_update()
            .filter(customer_id=order.customer_id, product_line_id=product_line_id, status__in=LIVE_CONTRACT_STATUSES)
            .first()
        )
        annual = annual_value_of(line)
        if contract is None:
            contract = Contract.objects.create(
                partner_id=order.partner_id,
                originating_partner_id=originating_id,
                customer_id=order.customer_id,
                product_line_id=product_line_id,
                term_start=line.term_start,
                term_end=line.term_end,
                annual_value=annual,
                currency=order.currency,
                source_order=order,
            )
            amount = line.net_amount
            audit.record(
                actor=None,
                verb="contract.create",
                obj=contract,
                partner=order.partner_id,
                changes={"term_end": [None, str(contract.term_end)], "annual_value": [None, str(annual)]},
                reason=f"Order {order.number} fulfilled.",
            )
        else:
            # Co-terming: the add-on ends with the contract and is charged for the days it runs.
            own_days = max((line.term_end - line.term_start).days + 1, 1)
            start = min(line.term_start, contract.term_end)
            days = max((contract.term_end - start).days + 1, 0)
            amount = _cents(Decimal(line.net_amount) * days / own_days)
            line.term_end = contract.term_end
            line.save(update_fields=["term_end"])
            contract.annual_value = _cents(contract.annual_value + annual)
            contract.save(update_fields=["annual_value", "updated_at"])
            audit.record(
                actor=None,
                verb="contract.coterm",
                obj=contract,
                partner=order.partner_id,
                changes={"annual_value": [None, str(contract.annual_value)], "prorated": [None, str(amount)]},
                reason=f"Order {order.number}: {line.product.sku} co-termed to {contract.term_end}.",
            )
        ContractLine.objects.create(
            contract=contract,
            partner_id=order.partner_id,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            term_number=contract.term_number,
            term_start=line.term_start,
            term_end=contract.term_end,
            annual_value=annual,
            amount=amount,
            order_line=line,
        )
        touched[contract.pk] = contract
    return list(touched.values())


def _renew_contract(*, renewal, order, lines) -> Contract:
    """The renewal order's fulfilment: the contract's next term starts the day after the current one
    ends; the renewal records the outcome and the originating partner's commission accrues once."""
    contract = Contract.objects.select_for_update().get(pk=renewal.contract_id)
    start = contract.term_end + datetime.timedelta(days=1)
    months = max((line.term_months or 12) for line in lines)
    end = _add_months(start, months) - datetime.timedelta(days=1)
    new_value = Decimal("0.00")
    for line in lines:
        annual = annual_value_of(line)
        new_value += annual
        line.term_start, line.term_end = start, end
        line.save(update_fields=["term_start", "term_end"])
        ContractLine.objects.create(
            contract=contract,
            partner_id=contract.partner_id,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            term_number=contract.term_number + 1,
            term_start=start,
            term_end=end,
            annual_value=annual,
            amount=line.net_amount,
            order_line=line,
        )
    before = {"term_end": contract.term_end, "annual_value": contract.annual_value, "term_number": contract.term_number}
    contract.term_number += 1
    contract.term_start, contract.term_end = start, end
    contract.annual_value = _cents(new_value)
    _move_contract(contract, ContractStatus.RENEWED, reason=f"Renewed by order {order.number}.")
    audit.record(
        actor=None,
        verb="contract.extend",
        obj=contract,
        partner=contract.partner_id,
        changes=audit.diff(
            before, {"term_end": end, "annual_value": contract.annual_value, "term_number": contract.term_number}
        ),
    )
    change = _cents(new_value - renewal.current_value)
    outcome = RenewalOutcome.RENEWED
    if change > 0:
        outcome = RenewalOutcome.UPSELL
    elif change < 0:
        outcome = RenewalOutcome.DOWNSELL
    _move_renewal(
        renewal,
        RenewalStatus.RENEWED,
        reason=f"Order {order.number} fulfilled.",
        outcome=outcome,
        renewed_value=_cents(new_value),
        value_change=change,
        order=order,
        closed_at=timezone.now(),
        closed_by_side=OwnerSide.PARENT if order.placed_by_parent else OwnerSide.PARTNER,
    )
    _accrue_renewal_commission(renewal=renewal, contract=contract, order=order)
    return contract


def commission_ref(contract, term_number) -> str:
    """One renewal commission per contract term."""
    return f"contract:{contract.pk}:term:{term_number}"


def _reverse_system(entry, reason):
    before = entry.status
    entry.status = CommissionStatus.REVERSED
    entry.reversal_reason = reason[:200]
    entry.save(update_fields=["status", "reversal_reason"])
    audit.record(
        actor=None,
        verb="commission.reversed",
        obj=entry,
        partner=entry.partner_id,
        changes={"status": [before, CommissionStatus.REVERSED]},
        reason=entry.reversal_reason,
    )


def _accrue_renewal_commission(*, renewal, contract, order):
    from partners.ledger import commission_accrue

    if not renewal.commission_eligible or renewal.commission_rate <= 0:
        return None
    entry, _ = commission_accrue(
        partner=renewal.originating_partner,
        source=CommissionSource.RENEWAL,
        source_ref=commission_ref(contract, contract.term_number),
        amount=percentage(order.total, renewal.commission_rate),
        customer=renewal.customer,
        description=f"Renewal {renewal.number} of {contract.number} (term {contract.term_number})",
        base_amount=order.total,
        rate=renewal.commission_rate,
        currency=order.currency,
    )
    return entry


@transaction.atomic
def renewal_order_cancelled(*, order) -> Renewal | None:
    """Called when an order is cancelled: a renewal order's renewal is open again (its quote chain is
    released) and a renewal commission already accrued for that order's term is reversed."""
    renewal = renewal_of_order(order)
    if renewal is None:
        return None
    if renewal.status == RenewalStatus.RENEWED and renewal.order_id == order.pk:
        term = renewal.term_number + 1
        entry = (
            Commission.objects.for_partner(renewal.originating_partner_id)
            .select_for_update()
            .filter(source=CommissionSource.RENEWAL, source_ref=commission_ref(renewal.contract, term))
            .exclude(status__in=[CommissionStatus.PAID, CommissionStatus.REVERSED])
            .first()
        )
        if entry is not None:
            _reverse_system(entry, f"Renewal order {order.number} cancelled.")
        return renewal
    if renewal.is_open:
        renewal.status, renewal.order = RenewalStatus.OPEN, None
        renewal.save(update_fields=["status", "order", "updated_at"])
        audit.record(
            actor=None,
            verb="renewal.reopen",
            obj=renewal,
            partner=renewal.partner_id,
            reason=f"Renewal order {order.number} cancelled.",
        )
    return renewal


@transaction.atomic
def contract_cancel(*, user, contract, reason: str) -> Contract:
    """The parent cancels a contract (the customer terminated): its open renewal is cancelled too."""
    actor = actor_of(user)
    if not (actor.is_parent and actor.has_parent_role(*permissions.RENEWAL_DESK)):
        raise PermissionDenied("Only the parent's renewal desk cancels contracts.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the contract is cancelled."]})
    contract = Contract.objects.for_user(user).select_for_update(of=("self",)).filter(pk=contract.pk).first()
    if contract is None:
        raise ValidationError({"contract": ["No such contract."]})
    _move_contract(contract, ContractStatus.CANCELLED, actor=user, reason=reason)
    for renewal in contract.renewals.select_for_update().filter(status__in=OPEN_RENEWAL_STATUSES):
        _move_renewal(
            renewal,
            RenewalStatus.CANCELLED,
            actor=user,
            reason=reason,
            outcome=RenewalOutcome.CANCELLED,
            closed_at=timezone.now(),
        )
    return contract


# The periodic scan: open renewals, schedule reminders (set-based, in batches) -------------------------


def _owner_side(agreement) -> str:
    return {
        RenewalOwner.PARENT: OwnerSide.PARENT,
        RenewalOwner.PARTNER: OwnerSide.PARTNER,
        RenewalOwner.SHARED: OwnerSide.SHARED,
    }[agreement["renewal_owner"]]


def _parent_may_pursue_from(term_end, exclusive_days, lead_days):
    """Either-model: the partner is exclusive for `renewal_exclusive_days` from the day the renewal
    is due to open (term end − lead days); from that day on the parent may pursue it too."""
    return term_end - datetime.timedelta(days=lead_days) + datetime.timedelta(days=exclusive_days)


AGREEMENT_FIELDS = {
    "renewal_owner": "partner__agreement__renewal_owner",
    "renewal_exclusive_days": "partner__agreement__renewal_exclusive_days",
    "renewal_commission": "originating_partner__agreement__renewal_commission",
    "renewal_commission_rate": "originating_partner__agreement__renewal_commission_rate",
    "renewal_uplift_percent": "partner__agreement__renewal_uplift_percent",
    "renewal_parent_marketing": "partner__agreement__renewal_parent_marketing",
}


def renewals_open_due(*, today=None, batch_size=None, use_sql=None) -> int:
    """Open a renewal for every live contract whose term ends within the lead days, in batches of
    contracts (keyset on id). A renewal per contract term is unique, so a concurrent scan opens
    nothing twice. On PostgreSQL a batch is one statement (select the batch, insert its renewals
    with the agreements' renewal dimensions joined, move the contracts to renewal_open); elsewhere
    three (read, bulk insert, update). Returns how many contracts were moved."""
    today = today or timezone.localdate()
    lead = conf.lead_days()
    size = batch_size or conf.batch_size()
    horizon = today + datetime.timedelta(days=lead)
    use_sql = connection.vendor == "postgresql" if use_sql is None else use_sql
    open_batch = _open_batch_sql if use_sql else _open_batch_orm
    opened, last_id = 0, 0
    now = timezone.now()
    while True:
        with transaction.atomic():
            count, last_id = open_batch(last_id=last_id, horizon=horizon, size=size, lead=lead, now=now)
        opened += count
        if count < size:
            break
    return opened


OPEN_BATCH_SQL = """
WITH batch AS (
    SELECT id FROM renewals_contract
    WHERE id > %(last_id)s AND status IN ('active', 'renewed') AND term_end <= %(horizon)s
    ORDER BY id LIMIT %(size)s
), opened AS (
    INSERT INTO renewals_renewal (
        contract_id, partner_id, originating_partner_id, customer_id, term_number, term_end, status,
        owner_side, exclusive_days, parent_may_pursue_from, parent_marketing_allowed, commission_eligible,
        commission_rate, uplift_percent, current_value, expected_value, currency, outcome, lapse_reason,
        lapse_note, closed_by_side, due_milestone, reminded_milestone, opened_at, updated_at
    )
    SELECT c.id, c.partner_id, c.originating_partner_id, c.customer_id, c.term_number, c.term_end, 'open',
        a.renewal_owner,
        CASE WHEN a.renewal_owner = 'shared' THEN a.renewal_exclusive_days ELSE 0 END,
        CASE WHEN a.renewal_owner = 'shared' THEN c.term_end - %(lead)s + a.renewal_exclusive_days END,
        a.renewal_parent_marketing, o.renewal_commission, o.renewal_commission_rate, a.renewal_uplift_percent,
        c.annual_value, round(c.annual_value * (1 + a.renewal_uplift_percent / 100), 2), c.currency,
        '', '', '', '', -1, -1, %(now)s, %(now)s
    FROM batch
    JOIN renewals_contract c ON c.id = batch.id
    JOIN partners_agreement a ON a.partner_id = c.partner_id
    JOIN partners_agreement o ON o.partner_id = c.originating_partner_id
    ON CONFLICT DO NOTHING
), moved AS (
    UPDATE renewals_contract c SET status = 'renewal_open', updated_at = %(now)s
    FROM batch WHERE c.id = batch.id
)
SELECT count(*), coalesce(max(id), %(last_id)s) FROM batch
"""


def _open_batch_sql(*, last_id, horizon, size, lead, now):
    # The agreement's renewal_owner values are the owner sides' values (parent, partner, shared).
    assert set(RenewalOwner.values) == set(OwnerSide.values)
    with connection.cursor() as cursor:
        cursor.execute(OPEN_BATCH_SQL, {"last_id": last_id, "horizon": horizon, "size": size, "lead": lead, "now": now})
        count, last = cursor.fetchone()
    return count, last


def _open_batch_orm(*, last_id, horizon, size, lead, now):
    rows = list(
        Contract.objects.filter(
            pk__gt=last_id,
            status__in=[ContractStatus.ACTIVE, ContractStatus.RENEWED],
            term_end__lte=horizon,
        )
        .order_by("pk")
        .values(
            "pk",
            "partner_id",
            "originating_partner_id",
            "customer_id",
            "term_number",
            "term_end",
            "annual_value",
            "currency",
            **{k: F(v) for k, v in AGREEMENT_FIELDS.items()},
        )[:size]
    )
    if not rows:
        return 0, last_id
    renewals = []
    for row in rows:
        side = _owner_side(row)
        uplift = row["renewal_uplift_percent"] or Decimal("0")
        exclusive = row["renewal_exclusive_days"] if side == OwnerSide.SHARED else 0
        renewals.append(
            Renewal(
                contract_id=row["pk"],
                partner_id=row["partner_id"],
                originating_partner_id=row["originating_partner_id"],
                customer_id=row["customer_id"],
                term_number=row["term_number"],
                term_end=row["term_end"],
                owner_side=side,
                exclusive_days=exclusive,
                parent_may_pursue_from=(
                    _parent_may_pursue_from(row["term_end"], exclusive, lead) if side == OwnerSide.SHARED else None
                ),
                parent_marketing_allowed=bool(row["renewal_parent_marketing"]),
                commission_eligible=bool(row["renewal_commission"]),
                commission_rate=row["renewal_commission_rate"] or Decimal("0"),
                uplift_percent=uplift,
                current_value=row["annual_value"],
                expected_value=_cents(row["annual_value"] * (1 + uplift / 100)),
                currency=row["currency"],
                opened_at=now,
            )
        )
    Renewal.objects.bulk_create(renewals, ignore_conflicts=True, batch_size=size)
    Contract.objects.filter(pk__in=[row["pk"] for row in rows]).update(
        status=ContractStatus.RENEWAL_OPEN, updated_at=now
    )
    return len(rows), rows[-1]["pk"]


def due_milestone(term_end, today) -> int:
    """The latest milestone reached: the smallest number of days before term end that has passed."""
    days_left = (term_end - today).days
    reached = [m for m in MILESTONES if days_left <= m]
    return min(reached) if reached else -1


def renewals_schedule_reminders(*, today=None, batch_size=None, enqueue=True) -> int:
    """Raise each open renewal's due milestone and queue a reminder task for every renewal whose due
    milestone has not been reminded yet (also those a lost or crashed task left behind). Per batch:
    one read, at most one update per milestone, and the tasks queued after commit. Returns how many
    renewals were queued."""
    today = today or timezone.localdate()
    size = batch_size or conf.batch_size()
    horizon = today + datetime.timedelta(days=max(MILESTONES))
    queued, last_id = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                Renewal.objects.filter(pk__gt=last_id, status__in=OPEN_RENEWAL_STATUSES, term_end__lte=horizon)
                .order_by("pk")
                .values_list("pk", "term_end", "due_milestone", "reminded_milestone")[:size]
            )
            if not rows:
                break
            last_id = rows[-1][0]
            raise_to = defaultdict(list)
            pending = []
            for pk, term_end, due, reminded in rows:
                milestone = due_milestone(term_end, today)
                if milestone < 0:
                    continue
                if due < 0 or milestone < due:
                    raise_to[milestone].append(pk)
                    due = milestone
                if due != reminded:
                    pending.append(pk)
            for milestone, ids in raise_to.items():
                Renewal.objects.filter(pk__in=ids).update(due_milestone=milestone)
            if pending and enqueue:
                _enqueue_reminders(pending)
            queued += len(pending)
        if len(rows) < size:
            break
    return queued


def _enqueue_reminders(ids):
    from .tasks import send_renewal_reminders

    chunk = conf.reminder_chunk()
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        transaction.on_commit(lambda part=part: send_renewal_reminders.delay(part))


# Reminders -------------------------------------------------------------------------------------------


def reminder_recipients(renewal, milestone, today=None) -> list[tuple[object, str]]:
    """Who is reminded at a milestone: the side that works the renewal (its assignee, or the partner's
    admins and managers and the customer's manager; the parent's renewal desk that may see the
    partner), and for the either-model the parent too once its window is open at that milestone."""
    partner_side = []
    parent_side = []
    assignee = renewal.assigned_to
    if renewal.owner_side in (OwnerSide.PARTNER, OwnerSide.SHARED):
        managers = list(
            CustomerRelationship.objects.filter(
                customer_id=renewal.customer_id, partner_id=renewal.partner_id, owner__isnull=False
            ).values_list("owner_id", flat=True)
        )
        extra = [m.user for m in Membership.objects.for_partner(renewal.partner_id).filter(user_id__in=managers)]
        if assignee is not None and not assignee.is_staff:
            extra.append(assignee)
        partner_side = partner_recipients(
            renewal.partner_id, roles=[PartnerRole.ADMIN, PartnerRole.MANAGER], users=extra
        )
    milestone_day = renewal.term_end - datetime.timedelta(days=milestone)
    parent_window_open = renewal.owner_side == OwnerSide.PARENT or (
        renewal.owner_side == OwnerSide.SHARED
        and renewal.parent_may_pursue_from is not None
        and max(milestone_day, today or milestone_day) >= renewal.parent_may_pursue_from
    )
    if parent_window_open:
        if assignee is not None and assignee.is_staff:
            parent_side = [assignee]
        else:
            parent_side = parent_recipients(roles=permissions.RENEWAL_DESK, partner_id=renewal.partner_id)
    return [(user, OwnerSide.PARTNER) for user in partner_side] + [(user, OwnerSide.PARENT) for user in parent_side]


def _milestone_words(milestone) -> str:
    return "ends today" if milestone == 0 else f"ends in {milestone} days"


def renewal_url(renewal) -> str:
    return reverse("renewals:renewal-detail", args=[renewal.pk])


@transaction.atomic
def renewal_remind(*, renewal_id, today=None) -> int:
    """Send the due milestone's reminders of one renewal. The renewal row is locked; each reminder row
    (renewal, milestone, recipient) is unique and written with its notification in this transaction,
    whose commit queues the email. Run twice, concurrently or after a crash: one reminder each.
    Returns how many reminders were written now."""
    renewal = (
        Renewal.objects.select_for_update(of=("self",))
        .select_related("customer", "partner", "assigned_to")
        .filter(pk=renewal_id)
        .first()
    )
    if renewal is None or not renewal.is_open or renewal.due_milestone < 0:
        return 0
    milestone = renewal.due_milestone
    if renewal.reminded_milestone == milestone:
        return 0
    today = today or timezone.localdate()
    already = set(
        RenewalReminder.objects.filter(renewal=renewal, milestone=milestone).values_list("recipient_id", flat=True)
    )
    written = 0
    recipients = reminder_recipients(renewal, milestone, today)
    # Either model: the partner learns with its reminder that the parent may now pursue it too.
    window_note = (
        " Your exclusive window has closed: the parent may pursue this renewal too."
        if renewal.owner_side == OwnerSide.SHARED and any(side == OwnerSide.PARENT for _, side in recipients)
        else ""
    )
    for user, side in recipients:
        if user.pk in already:
            continue
        customer = renewal.customer.legal_name
        key = f"renewal:{renewal.pk}:milestone:{milestone}"
        created = notify(
            recipients=[user],
            kind="renewals.milestone",
            key=key,
            title=f"Renewal {renewal.number}: {customer}'s contract {_milestone_words(milestone)}",
            body=(
                f"{customer}'s contract ends on {renewal.term_end:%Y-%m-%d}. "
                + (
                    f"Expected renewal value {renewal.expected_value} {renewal.currency}."
                    if side == OwnerSide.PARENT or renewal.owner_side != OwnerSide.PARENT
                    else ""
                )
                + (window_note if side == OwnerSide.PARTNER else "")
            ),
            url=renewal_url(renewal),
        )
        RenewalReminder.objects.create(
            renewal=renewal,
            partner_id=renewal.partner_id,
            milestone=milestone,
            recipient=user,
            side=side,
            notification=created[0] if created else None,
        )
        written += 1
    renewal.reminded_milestone = milestone
    renewal.save(update_fields=["reminded_milestone", "updated_at"])
    return written


def renewals_remind(renewal_ids, *, today=None) -> int:
    """The reminder task's body: one transaction per renewal, so a crash loses no finished work."""
    total = 0
    pause = conf.reminder_pause_seconds()
    for renewal_id in renewal_ids:
        total += renewal_remind(renewal_id=renewal_id, today=today)
        if pause:
            time.sleep(pause)
    return total


# Lapse -------------------------------------------------------------------------------------------------


def _lapse(renewal, *, actor, reason, note=""):
    _move_renewal(
        renewal,
        RenewalStatus.LAPSED,
        actor=actor,
        reason=note or dict(LapseReason.choices)[reason],
        outcome=RenewalOutcome.LAPSED,
        lapse_reason=reason,
        lapse_note=note,
        closed_at=timezone.now(),
        closed_by_side=OwnerSide.PARENT
        if actor_of(actor).is_parent
        else (OwnerSide.PARTNER if actor is not None else ""),
    )
    contract = Contract.objects.select_for_update().get(pk=renewal.contract_id)
    if contract.status == ContractStatus.RENEWAL_OPEN:
        _move_contract(contract, ContractStatus.LAPSED, actor=actor, reason=dict(LapseReason.choices)[reason])
    return renewal


@transaction.atomic
def renewal_mark_lapsed(*, user, renewal, reason: str, note: str = "") -> Renewal:
    if not permissions.can_work(user, renewal):
        raise PermissionDenied("You may not record this renewal's outcome.")
    if reason not in LapseReason.values:
        raise ValidationError({"reason": [f"Choose one of: {', '.join(LapseReason.values)}."]})
    if reason == LapseReason.OTHER and not note.strip():
        raise ValidationError({"note": ["Say why the customer did not renew."]})
    renewal = Renewal.objects.select_for_update(of=("self",)).get(pk=renewal.pk)
    return _lapse(renewal, actor=user, reason=reason, note=note)


def renewals_lapse_overdue(*, today=None, batch_size=None) -> int:
    """System: open renewals whose term ended more than the grace period ago lapse ("no response")."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=conf.grace_days())
    size = batch_size or conf.batch_size()
    lapsed = 0
    ids = list(
        Renewal.objects.filter(status__in=OPEN_RENEWAL_STATUSES, term_end__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:size]
    )
    for renewal_id in ids:
        with transaction.atomic():
            renewal = Renewal.objects.select_for_update().filter(pk=renewal_id).first()
            if renewal is None or not renewal.is_open or renewal.term_end >= cutoff:
                continue
            _lapse(renewal, actor=None, reason=LapseReason.NO_RESPONSE)
            lapsed += 1
    return lapsed


# People working renewals ---------------------------------------------------------------------------


def _lock(renewal) -> Renewal:
    return (
        Renewal.objects.select_for_update(of=("self",))
        .select_related("contract", "partner__agreement", "customer", "originating_partner")
        .get(pk=renewal.pk)
    )


def upsell_suggestions(renewal) -> list:
    """Products of the contract's product line the customer does not have yet, highest price first
    (the higher editions)."""
    from quotes.models import Product

    held = ContractLine.objects.filter(contract__customer_id=renewal.customer_id).values_list("product_id", flat=True)
    return list(
        Product.objects.for_partner(renewal.partner_id)
        .filter(product_line_id=renewal.contract.product_line_id, is_subscription=True)
        .exclude(pk__in=held)
        .order_by("-list_price", "sku")[:5]
    )


def current_lines(contract) -> list:
    """The contract's lines of its current term (co-termed add-ons included)."""
    return list(
        contract.lines.filter(term_number=contract.term_number).select_related("product").order_by("term_start", "id")
    )


@transaction.atomic
def renewal_quote(*, user, renewal, add_products=(), quantities=None):
    """Produce the renewal quote through the quotes app: the contract's current products (same
    quantities unless changed) plus chosen upsells, priced, approved and branded like any quote."""
    from quotes import services as quote_services

    if not permissions.can_work(user, renewal):
        raise PermissionDenied("You may not quote this renewal.")
    renewal = _lock(renewal)
    if not renewal.is_open:
        raise transition_error("renewal", renewal.status, RenewalStatus.QUOTED)
    quantities = quantities or {}
    lines = {}
    for line in current_lines(renewal.contract):
        if not line.product.active:
            continue
        entry = lines.setdefault(line.product_id, {"product": line.product, "quantity": 0, "term_months": 12})
        entry["quantity"] += line.quantity
    for product_id, quantity in quantities.items():
        if product_id not in lines:
            raise ValidationError({"quantities": [f"Product {product_id} is not on the contract."]})
        if int(quantity) < 0:
            raise ValidationError({"quantities": ["A quantity is 0 (drop it) or more."]})
        lines[product_id]["quantity"] = int(quantity)
    allowed = {p.pk: p for p in upsell_suggestions(renewal)}
    for product in add_products:
        product_id = getattr(product, "pk", product)
        if product_id not in allowed:
            raise ValidationError({"add_products": [f"Product {product_id} is not an upsell for this contract."]})
        lines.setdefault(product_id, {"product": allowed[product_id], "quantity": 1, "term_months": 12})
    lines = [line for line in lines.values() if line["quantity"] > 0]
    if not lines:
        raise ValidationError({"quantities": ["A renewal quote needs at least one product."]})
    quote = quote_services.quote_create(
        user=user,
        customer=renewal.customer,
        partner=renewal.partner,
        lines=lines,
        opportunity_ref=f"{RENEWAL_REF}{renewal.pk}",
        notes=f"Renewal of {renewal.contract.number}, term ending {renewal.term_end:%Y-%m-%d}.",
    )
    worked = {"partner_worked_at": timezone.now()} if actor_of(user).is_partner else {}
    _move_renewal(
        renewal,
        RenewalStatus.QUOTED,
        actor=user,
        verb="renewal.quote",
        quote=quote,
        reason=f"Quote {quote.number}.",
        **worked,
    )
    return quote


def timing_rule_failures(renewal, today) -> list[str]:
    failures = []
    rules = TimingRule.objects.for_partner(renewal.partner_id).filter(active=True)
    for rule in rules:
        if rule.wait_days_after_window and renewal.parent_may_pursue_from is not None:
            ready = renewal.parent_may_pursue_from + datetime.timedelta(days=rule.wait_days_after_window)
            if today < ready:
                failures.append(f"{rule.name}: the parent waits until {ready:%Y-%m-%d}.")
        if rule.not_within_days_of_partner_activity and renewal.partner_worked_at is not None:
            worked = timezone.localdate(renewal.partner_worked_at)
            recent = worked + datetime.timedelta(days=rule.not_within_days_of_partner_activity)
            if today < recent:
                failures.append(f"{rule.name}: the partner worked it recently; wait until {recent:%Y-%m-%d}.")
    return failures


@transaction.atomic
def renewal_pursue(*, user, renewal, today=None) -> Renewal:
    """Either-model: the parent pursues a renewal once the partner's exclusive window has closed and
    its timing rules allow; the partner is told. Inside the window: 403."""
    if not permissions.can_pursue(user, renewal):
        raise PermissionDenied("Only the parent's renewal desk pursues renewals of the either-model.")
    today = today or timezone.localdate()
    renewal = _lock(renewal)
    if not renewal.is_open:
        raise transition_error("renewal", renewal.status, "pursued")
    if not renewal.parent_may_pursue(today):
        raise PermissionDenied(
            f"The partner's exclusive window is open until {renewal.parent_may_pursue_from:%Y-%m-%d}."
        )
    failures = timing_rule_failures(renewal, today)
    if failures:
        raise PermissionDenied(" ".join(failures))
    if renewal.pursued_by_parent_at is not None:
        return renewal
    renewal.pursued_by_parent_at = timezone.now()
    renewal.save(update_fields=["pursued_by_parent_at", "updated_at"])
    audit.record(
        actor=user,
        verb="renewal.pursue",
        obj=renewal,
        partner=renewal.partner_id,
        changes={"pursued_by_parent_at": [None, renewal.pursued_by_parent_at.isoformat()]},
    )
    notify(
        recipients=partner_recipients(
            renewal.partner_id,
            roles=[PartnerRole.ADMIN, PartnerRole.MANAGER],
            users=[renewal.assigned_to] if renewal.assigned_to_id else (),
        ),
        kind="renewals.pursued",
        key=f"renewal:{renewal.pk}:pursued",
        title=f"The parent is also pursuing renewal {renewal.number} ({renewal.customer.legal_name})",
        body="Your exclusive window has closed; whoever closes the renewal is recorded.",
        url=renewal_url(renewal),
    )
    return renewal


@transaction.atomic
def renewal_assign(*, user, renewal, assignee) -> Renewal:
    """The working side hands the renewal to one of its people."""
    if not permissions.can_assign(user, renewal):
        raise PermissionDenied("You may not assign this renewal.")
    actor = actor_of(user)
    target = actor_of(assignee) if assignee is not None else None
    if actor.is_partner:
        fits = (
            target is not None
            and target.is_partner
            and target.partner_id == actor.partner_id
            and target.role in permissions.SELLING_ROLES
        )
    else:
        fits = (
            target is not None
            and target.is_parent
            and target.has_parent_role(*permissions.RENEWAL_DESK)
            and target.may_see_partner(renewal.partner_id)
        )
    if not fits:
        raise ValidationError({"assignee": ["Choose one of the people of your side who may work this renewal."]})
    renewal = _lock(renewal)
    if not renewal.is_open:
        raise transition_error("renewal", renewal.status, "assigned")
    before = renewal.assigned_to_id
    renewal.assigned_to = assignee
    if actor.is_partner:
        renewal.partner_worked_at = timezone.now()
    renewal.save(update_fields=["assigned_to", "partner_worked_at", "updated_at"])
    audit.record(
        actor=user,
        verb="renewal.assign",
        obj=renewal,
        partner=renewal.partner_id,
        changes={"assigned_to": [before, assignee.pk]},
    )
    notify(
        recipients=[assignee],
        kind="renewals.assigned",
        key=f"renewal:{renewal.pk}:assigned:{assignee.pk}",
        title=f"Renewal {renewal.number} ({renewal.customer.legal_name}) is yours",
        url=renewal_url(renewal),
    )
    return renewal
