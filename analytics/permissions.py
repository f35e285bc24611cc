"""Who may do what in analytics."""

from partners.access import ParentRole, actor_of


def can_triage_alerts(user) -> bool:
    return actor_of(user).has_parent_role(ParentRole.FRAUD_ANALYST)


def can_monitor_security(user) -> bool:
    """Parent admins and the fraud analyst."""
    return actor_of(user).has_parent_role(ParentRole.FRAUD_ANALYST)


def can_see_channel(user) -> bool:
    return actor_of(user).is_parent


def can_see_scorecard(user) -> bool:
    actor = actor_of(user)
    return actor.is_parent or actor.is_partner


def can_browse_audit(user) -> bool:
    return actor_of(user).is_parent
