"""Who may do what with a renewal they can already see. The owner side was copied from the agreement's
renewal dimensions when the renewal opened; these predicates ask it, never the business model."""

from partners.access import ParentRole, PartnerRole, actor_of
from partners.agreement import PostWinVisibility

from .models import OwnerSide

# Parent staff who work renewals; partner roles that sell.
RENEWAL_DESK = (ParentRole.CHANNEL_MANAGER, ParentRole.SALES)
SELLING_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER, PartnerRole.REP}
ASSIGNING_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER}


def _parent_desk(actor, renewal) -> bool:
    return actor.is_parent and actor.has_parent_role(*RENEWAL_DESK) and actor.may_see_partner(renewal.partner_id)


def shows_values(user, obj=None) -> bool:
    """Values (annual value, expected value, lines, quotes) or status only. Referral partners
    (post-win visibility "status only") and the originating partner of a parent-owned renewal see
    its status only."""
    actor = actor_of(user)
    if actor.is_parent:
        return True
    if not actor.is_partner or actor.agreement.post_win_visibility == PostWinVisibility.STATUS_ONLY:
        return False
    if obj is not None and getattr(obj, "owner_side", None) == OwnerSide.PARENT:
        return False
    return obj is None or obj.partner_id == actor.partner_id


def partner_works(renewal) -> bool:
    return renewal.owner_side in (OwnerSide.PARTNER, OwnerSide.SHARED)


def parent_works(renewal, today=None) -> bool:
    if renewal.owner_side == OwnerSide.PARENT:
        return True
    return renewal.owner_side == OwnerSide.SHARED and renewal.pursued_by_parent_at is not None


def can_work(user, renewal, today=None) -> bool:
    """Quote it and record its outcome."""
    actor = actor_of(user)
    if actor.is_parent:
        return _parent_desk(actor, renewal) and parent_works(renewal, today)
    return (
        actor.is_partner
        and actor.role in SELLING_ROLES
        and actor.partner_id == renewal.partner_id
        and partner_works(renewal)
        and shows_values(user, renewal)
    )


def can_pursue(user, renewal) -> bool:
    """The parent's desk, on an either-model renewal (the window is checked by the service: 403)."""
    actor = actor_of(user)
    return _parent_desk(actor, renewal) and renewal.owner_side == OwnerSide.SHARED


def can_assign(user, renewal) -> bool:
    actor = actor_of(user)
    if actor.is_parent:
        return _parent_desk(actor, renewal) and parent_works(renewal)
    return (
        actor.is_partner
        and actor.role in ASSIGNING_ROLES
        and actor.partner_id == renewal.partner_id
        and partner_works(renewal)
        and shows_values(user, renewal)
    )


def can_market_to(user, renewal) -> bool:
    """The parent may send renewal marketing to a partner-owned renewal's customer only when the
    agreement allowed it when the renewal opened; its own and pursued renewals it markets anyway."""
    actor = actor_of(user)
    if not (actor.is_parent and actor.may_see_partner(renewal.partner_id)):
        return False
    if actor.has_parent_role(ParentRole.MARKETING, *RENEWAL_DESK) is False:
        return False
    return parent_works(renewal) or renewal.parent_marketing_allowed
