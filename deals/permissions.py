"""Action rights on leads, registrations, opportunities and commissions. Called by the API, portal
and admin, and re-asserted in services."""

from partners.access import ParentRole, PartnerRole, actor_of

from .models import ManagedBy

# Partner roles that sell: they register deals, accept leads and work opportunities.
SELLING_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER, PartnerRole.REP}


def can_sell(user) -> bool:
    actor = actor_of(user)
    return actor.is_partner and actor.role in SELLING_ROLES


def can_register_deals(user) -> bool:
    return can_sell(user)


def can_review_registrations(user) -> bool:
    """Approve, reject, return registrations and decide extensions."""
    return actor_of(user).has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES)


def can_route_leads(user) -> bool:
    return actor_of(user).has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES, ParentRole.MARKETING)


def can_take_leads(user) -> bool:
    """Take a queued lead for the parent's own direct sales."""
    return actor_of(user).has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES)


def can_create_leads(user) -> bool:
    return can_route_leads(user) or can_sell(user)


def can_answer_offer(user, lead) -> bool:
    actor = actor_of(user)
    return can_sell(user) and lead.partner_id == actor.partner_id


def can_work_registration(user, registration) -> bool:
    """The registering partner's sellers edit, submit, withdraw and ask for extensions."""
    actor = actor_of(user)
    return can_sell(user) and registration.partner_id == actor.partner_id


def can_edit_opportunity(user, opportunity) -> bool:
    """Whoever manages it: the parent's sales side, or the attributed partner's sellers."""
    actor = actor_of(user)
    if opportunity.managed_by == ManagedBy.PARENT:
        return actor.has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES)
    return can_sell(user) and opportunity.partner_id == actor.partner_id


def can_create_opportunity(user) -> bool:
    return can_sell(user) or actor_of(user).has_parent_role(ParentRole.SALES, ParentRole.CHANNEL_MANAGER)


def can_assign_opportunity(user, opportunity) -> bool:
    return actor_of(user).has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES)


def can_manage_commissions(user) -> bool:
    return actor_of(user).has_parent_role(ParentRole.FINANCE)
