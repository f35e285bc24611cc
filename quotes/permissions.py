"""Who may do what with quotes and orders they can already see. Asked by the API, the portal and the
admin, and re-asserted in services. Agreement dimensions decide, never the business model's name."""

from partners.access import ParentRole, PartnerRole, actor_of
from partners.agreement import OrderAccess, QuoteAccess

# Parent staff who quote for partners and decide discount approvals and order reviews.
QUOTE_DESK = (ParentRole.CHANNEL_MANAGER, ParentRole.SALES)
ORDER_DESK = (ParentRole.CHANNEL_MANAGER, ParentRole.SALES, ParentRole.FINANCE)
# Partner roles that sell (support and marketing read only).
SELLING_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER, PartnerRole.REP}


def _selling_partner_user(actor) -> bool:
    return actor.is_partner and actor.role in SELLING_ROLES


def partner_quotes_itself(partner) -> bool:
    return partner.agreement.quote_access != QuoteAccess.NONE


def can_create_quote(user) -> bool:
    """Partner sellers (a referral partner's quote becomes a request to the parent); the quote desk."""
    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(*QUOTE_DESK)
    return _selling_partner_user(actor)


def can_edit_quote(user, quote) -> bool:
    """Change lines and header: the partner's sellers when it quotes itself, else the parent's desk."""
    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(*QUOTE_DESK) and actor.may_see_partner(quote.partner_id)
    return (
        _selling_partner_user(actor)
        and actor.partner_id == quote.partner_id
        and not quote.prepared_by_parent
        and partner_quotes_itself(actor.partner)
    )


def can_decide_quote(user, quote) -> bool:
    """Approve, reject or return a discount: the parent's quote desk."""
    actor = actor_of(user)
    return actor.is_parent and actor.has_parent_role(*QUOTE_DESK) and actor.may_see_partner(quote.partner_id)


def can_answer_quote(user, quote) -> bool:
    """Record the customer's accept or decline: whoever prepared and sent it."""
    return can_edit_quote(user, quote)


def can_create_order(user) -> bool:
    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(*ORDER_DESK)
    return _selling_partner_user(actor) and actor.agreement.order_access != OrderAccess.NONE


def can_change_order(user, order) -> bool:
    """Edit, submit or cancel: the partner's sellers (when its agreement lets it order), the desk."""
    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(*ORDER_DESK) and actor.may_see_partner(order.partner_id)
    return (
        _selling_partner_user(actor)
        and actor.partner_id == order.partner_id
        and (order.placed_by_parent is False)
        and actor.agreement.order_access != OrderAccess.NONE
    )


def can_review_order(user, order) -> bool:
    """Approve or decline an order in review, retry a failed provisioning: the parent's order desk."""
    actor = actor_of(user)
    return actor.is_parent and actor.has_parent_role(*ORDER_DESK) and actor.may_see_partner(order.partner_id)


def sees_status_only(user, quote=None) -> bool:
    """A partner whose agreement shows it only the status of what it referred sees the status of a
    quote the parent priced for it, never its lines, prices or document."""
    from partners.agreement import PostWinVisibility

    actor = actor_of(user)
    return (
        actor.is_partner
        and actor.agreement.post_win_visibility == PostWinVisibility.STATUS_ONLY
        and (quote is None or getattr(quote, "prepared_by_parent", False) or getattr(quote, "placed_by_parent", False))
    )


def can_add_own_services(user, quote) -> bool:
    """A partner whose agreement gives it partner-branded quoting (white label) bundles its own
    services into its quotes; it alone sees and changes them."""
    actor = actor_of(user)
    return (
        can_edit_quote(user, quote)
        and actor.is_partner
        and actor.agreement.quote_access == QuoteAccess.SELF_SERVICE_BRANDED
    )


def sees_own_services(user, quote) -> bool:
    actor = actor_of(user)
    return actor.is_partner and actor.partner_id == quote.partner_id
