"""Action rights: who may do what to an object they can already see. Called by API permission
classes, portal views and admin, and re-asserted in services."""

from .access import ParentRole, PartnerRole, actor_of


def can_manage_partner(user, partner) -> bool:
    """Change a partner's status, agreement or managers: parent admins, and its channel managers."""
    actor = actor_of(user)
    if actor.is_parent_admin:
        return True
    return actor.is_parent and ParentRole.CHANNEL_MANAGER in actor.parent_roles and actor.may_see_partner(partner.pk)


def can_edit_branding(user, partner) -> bool:
    actor = actor_of(user)
    return can_manage_partner(user, partner) or (actor.is_partner_admin and actor.partner_id == partner.pk)


def can_manage_team(user, partner) -> bool:
    """Invite, deactivate and change the role of a partner's people."""
    actor = actor_of(user)
    if actor.is_partner:
        return actor.role == PartnerRole.ADMIN and actor.partner_id == partner.pk
    return can_manage_partner(user, partner)


def can_edit_customer(user, customer) -> bool:
    """Parent staff with a channel-wide or managing role; partner users whose agreement gives them more
    than the status of what they referred."""
    from .agreement import PostWinVisibility

    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES, ParentRole.SUPPORT)
    return actor.is_partner and actor.agreement.post_win_visibility == PostWinVisibility.FULL


def can_create_customer(user) -> bool:
    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(ParentRole.CHANNEL_MANAGER, ParentRole.SALES, ParentRole.SUPPORT)
    return actor.is_partner and actor.role != PartnerRole.MARKETING
