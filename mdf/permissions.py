"""Who may do what with marketing funds, campaigns and collateral. Read from the parent roles, the
partner role, and the agreement's marketing dimension (never the business model's name).
Re-asserted in every service."""

from partners.access import ParentRole, PartnerRole, actor_of
from partners.agreement import MarketingModel

# Partner people who ask for and claim funds; reps and support agents only follow them.
PARTNER_FUND_ROLES = {PartnerRole.ADMIN, PartnerRole.MANAGER, PartnerRole.MARKETING}
PARENT_MARKETING = (ParentRole.MARKETING,)
PARENT_FINANCE = (ParentRole.FINANCE,)

# What each marketing model lets the partner do.
FUNDS_MODELS = {
    MarketingModel.PARENT_COLLATERAL,
    MarketingModel.PARTNER_LED,
    MarketingModel.EITHER,
    MarketingModel.PARTNER_BRAND,
}
OWN_MATERIAL_MODELS = {MarketingModel.PARTNER_LED, MarketingModel.EITHER, MarketingModel.PARTNER_BRAND}


def marketing_model(actor) -> str | None:
    return actor.agreement.marketing_model if actor.is_partner else None


def may_request_funds_under(model) -> bool:
    """Parent-led marketing: the parent runs the campaigns and the partner receives the leads; there
    is nothing of the partner's own to fund."""
    return model in FUNDS_MODELS


def may_use_own_materials_under(model) -> bool:
    """Only the parent's collateral (co-branded) under `parent_collateral`; parent-led partners run
    no marketing of their own."""
    return model in OWN_MATERIAL_MODELS


def can_request_funds(user) -> bool:
    actor = actor_of(user)
    return actor.is_partner and actor.role in PARTNER_FUND_ROLES and may_request_funds_under(marketing_model(actor))


def can_claim(user, fund_request) -> bool:
    actor = actor_of(user)
    return (
        actor.is_partner
        and actor.role in PARTNER_FUND_ROLES
        and fund_request.partner_id == actor.partner_id
        and may_request_funds_under(marketing_model(actor))
    )


def can_edit_own(user, obj) -> bool:
    """Submit, change, cancel the partner's own request or claim."""
    actor = actor_of(user)
    return actor.is_partner and actor.role in PARTNER_FUND_ROLES and obj.partner_id == actor.partner_id


def can_decide_requests(user, partner_id=None) -> bool:
    """Parent marketing approves, rejects and returns requests (and reviews claims)."""
    actor = actor_of(user)
    return actor.has_parent_role(*PARENT_MARKETING) and (partner_id is None or actor.may_see_partner(partner_id))


def can_review_claims(user, partner_id=None) -> bool:
    """Parent marketing reviews claims and their proof; finance only pays (separation of duties)."""
    actor = actor_of(user)
    return actor.has_parent_role(*PARENT_MARKETING) and (partner_id is None or actor.may_see_partner(partner_id))


def can_pay(user, partner_id=None) -> bool:
    """Finance pays approved claims."""
    actor = actor_of(user)
    return actor.has_parent_role(*PARENT_FINANCE) and (partner_id is None or actor.may_see_partner(partner_id))


def can_manage_funds(user) -> bool:
    """Programs and allocations: parent marketing and finance."""
    return actor_of(user).has_parent_role(*PARENT_MARKETING, *PARENT_FINANCE)


def can_manage_parent_marketing(user) -> bool:
    """Parent campaigns and the collateral library."""
    return actor_of(user).has_parent_role(*PARENT_MARKETING)


def can_run_own_campaigns(user) -> bool:
    actor = actor_of(user)
    return actor.is_partner and actor.role in PARTNER_FUND_ROLES and may_use_own_materials_under(marketing_model(actor))


def can_upload_own_collateral(user) -> bool:
    return can_run_own_campaigns(user)
