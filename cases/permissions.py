"""Who may do what to a case they can already see, read from the agreement's service model (stored
on the case when it was opened) and the party that owns the case now. Re-asserted in services."""

from partners.access import ParentRole, PartnerRole, actor_of
from partners.agreement import PostWinVisibility, ServiceModel

from .models import SIMPLE_CATEGORIES, CaseStatus, CommentVisibility, Party, QueueKind

# Partner people who work cases ("agents"); reps and marketing open and follow them.
PARTNER_AGENT_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER, PartnerRole.SUPPORT}
PARENT_CASE_ROLES = (ParentRole.SUPPORT, ParentRole.CHANNEL_MANAGER)


def party_of(actor) -> str | None:
    if actor.is_parent:
        return Party.PARENT
    if actor.is_partner:
        return Party.PARTNER
    return None


def status_only(actor) -> bool:
    """Referral-type partners see only the status of their cases."""
    return actor.is_partner and actor.agreement.post_win_visibility == PostWinVisibility.STATUS_ONLY


def can_open_case(user) -> bool:
    actor = actor_of(user)
    if actor.is_parent:
        return actor.has_parent_role(*PARENT_CASE_ROLES, ParentRole.SALES)
    return actor.is_partner and actor.role != PartnerRole.MARKETING


def is_parent_agent(actor) -> bool:
    return actor.has_parent_role(*PARENT_CASE_ROLES)


def is_partner_agent(actor, case) -> bool:
    return actor.is_partner and actor.role in PARTNER_AGENT_ROLES and case.partner_id == actor.partner_id


def can_work(user, case) -> bool:
    """Take, assign, progress and resolve the case: the owning party's agents. A partner works only
    what its service model lets it work (never under parent-only; under either, simple categories
    and whatever the parent handed back)."""
    actor = actor_of(user)
    if is_shared_pickup(case):
        # A shared queue is worked by both sides: either party's agents may pick the case up.
        return (is_parent_agent(actor) and actor.may_see_partner(case.partner_id)) or is_partner_agent(actor, case)
    if case.owner_party == Party.PARENT:
        return is_parent_agent(actor) and (actor.sees_all_partners or actor.may_see_partner(case.partner_id))
    if not is_partner_agent(actor, case):
        return False
    if case.queue_id and case.queue.kind == QueueKind.SHARED:
        return True  # the partner's agent took it from the shared queue: it is the partner's to work
    if case.service_model == ServiceModel.PARENT_ONLY:
        return False
    if case.service_model == ServiceModel.EITHER:
        return case.category in SIMPLE_CATEGORIES or case.handed_back
    return True


def is_shared_pickup(case) -> bool:
    """A case waiting, unassigned, in a shared queue: either side may take it."""
    return (
        case.queue_id is not None
        and case.queue.kind == QueueKind.SHARED
        and case.status == CaseStatus.NEW
        and case.assignee_id is None
    )


def can_escalate(user, case) -> bool:
    """Hand the case from the partner to the parent (either and partner-only models)."""
    actor = actor_of(user)
    return (
        case.is_open
        and case.owner_party == Party.PARTNER
        and case.service_model in (ServiceModel.EITHER, ServiceModel.PARTNER_ONLY)
        and is_partner_agent(actor, case)
    )


def can_hand_back(user, case) -> bool:
    """Give an escalated case back to its partner (the parent's agents)."""
    actor = actor_of(user)
    return (
        case.is_open
        and case.owner_party == Party.PARENT
        and case.partner_id is not None
        and case.service_model in (ServiceModel.EITHER, ServiceModel.PARTNER_ONLY)
        and is_parent_agent(actor)
        and actor.may_see_partner(case.partner_id)
    )


def can_reopen(user, case) -> bool:
    """Whoever owns the case, or the partner that opened it (the customer answered it)."""
    actor = actor_of(user)
    return can_work(user, case) or (actor.is_partner and case.partner_id == actor.partner_id and not status_only(actor))


def comment_visibilities(user, case) -> list[str]:
    """The comment kinds the caller may write on a case they see (empty: none)."""
    actor = actor_of(user)
    if actor.is_partner:
        if status_only(actor) or case.partner_id != actor.partner_id:
            return []
        return [CommentVisibility.SHARED, CommentVisibility.PARTNER_INTERNAL]
    if actor.is_parent and actor.has_parent_role(*PARENT_CASE_ROLES, ParentRole.SALES):
        return [CommentVisibility.SHARED, CommentVisibility.PARENT_INTERNAL]
    return []


def can_comment(user, case, visibility) -> bool:
    return visibility in comment_visibilities(user, case)
