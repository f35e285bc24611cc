"""The partner agreement's policy dimensions and the five business models as presets over them.

Access code asks a dimension ("may this partner work cases?"), never the preset's name.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessModel(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    REGISTRATION_PARENT = "registration_parent", _("Registration, parent retains")
    REGISTRATION_RETENTION = "registration_retention", _("Registration & retention")
    DUAL = "dual", _("Dual responsibility")
    WHITE_LABEL = "white_label", _("White label")


class CustomerOwner(models.TextChoices):
    PARENT = "parent", _("Parent")
    PARTNER = "partner", _("Partner")
    SHARED = "shared", _("Shared")


class CustomerAwareness(models.TextChoices):
    REFERRED = "referred", _("Knows the partner referred them")
    PARTNER_INVISIBLE = "partner_invisible", _("Partner invisible")
    AWARE = "aware", _("Knows the partner")
    EITHER = "either", _("Either")
    PARTNER_ONLY = "partner_only", _("Only the partner (parent invisible)")


class PostWinVisibility(models.TextChoices):
    STATUS_ONLY = "status_only", _("Status and own commission only")
    BASIC = "basic", _("Basic account and initial order")
    FULL = "full", _("Everything")


class QuoteAccess(models.TextChoices):
    NONE = "none", _("None (parent quotes)")
    INITIAL_ORDER = "initial_order", _("Self-service for the initial order")
    SELF_SERVICE = "self_service", _("Self-service")
    SELF_SERVICE_BRANDED = "self_service_branded", _("Self-service, partner-branded")


class OrderAccess(models.TextChoices):
    NONE = "none", _("None")
    INITIAL_ONLY = "initial_only", _("Initial order only")
    FULL = "full", _("Full")


class ServiceModel(models.TextChoices):
    PARENT_ONLY = "parent_only", _("Parent only")
    EITHER = "either", _("Either: partner takes simple cases, escalates complex ones")
    PARTNER_ONLY = "partner_only", _("Partner only")


class RenewalOwner(models.TextChoices):
    PARENT = "parent", _("Parent")
    PARTNER = "partner", _("Partner")
    SHARED = "shared", _("Either, partner exclusive first")


class PipelineVisibility(models.TextChoices):
    ALWAYS = "always", _("Always")
    AFTER_ORDER = "after_order", _("Only once an order is placed")


class CommissionModel(models.TextChoices):
    ON_REFERRAL = "on_referral", _("Fixed fee on referral")
    ON_CLOSE = "on_close", _("Percentage on close")
    MARGIN = "margin", _("Margin/discount, no commission")


class MarketingModel(models.TextChoices):
    PARENT_LED = "parent_led", _("Parent-led; partner receives leads")
    PARENT_COLLATERAL = "parent_collateral", _("Parent collateral only, co-branded")
    PARTNER_LED = "partner_led", _("Partner-led, may use parent content")
    EITHER = "either", _("Either")
    PARTNER_BRAND = "partner_brand", _("Partner-led, own brand")


# The dimension names, in the order product.md lists them.
DIMENSIONS = (
    "customer_owner",
    "customer_awareness",
    "post_win_visibility",
    "quote_access",
    "order_access",
    "service_model",
    "renewal_owner",
    "renewal_exclusive_days",
    "renewal_commission",
    "renewal_commission_rate",
    "renewal_uplift_percent",
    "renewal_parent_marketing",
    "pipeline_visibility",
    "commission_model",
    "referral_fee",
    "commission_rate",
    "marketing_model",
)

PRESETS = {
    BusinessModel.REFERRAL: {
        "customer_owner": CustomerOwner.PARENT,
        "customer_awareness": CustomerAwareness.REFERRED,
        "post_win_visibility": PostWinVisibility.STATUS_ONLY,
        "quote_access": QuoteAccess.NONE,
        "order_access": OrderAccess.NONE,
        "service_model": ServiceModel.PARENT_ONLY,
        "renewal_owner": RenewalOwner.PARENT,
        "renewal_exclusive_days": 0,
        "renewal_commission": True,
        "renewal_commission_rate": Decimal("5.00"),
        "renewal_uplift_percent": Decimal("5.00"),
        "renewal_parent_marketing": True,
        "pipeline_visibility": PipelineVisibility.ALWAYS,
        "commission_model": CommissionModel.ON_REFERRAL,
        "referral_fee": Decimal("500.00"),
        "commission_rate": Decimal("0.00"),
        "marketing_model": MarketingModel.PARENT_LED,
    },
    BusinessModel.REGISTRATION_PARENT: {
        "customer_owner": CustomerOwner.PARENT,
        "customer_awareness": CustomerAwareness.PARTNER_INVISIBLE,
        "post_win_visibility": PostWinVisibility.BASIC,
        "quote_access": QuoteAccess.INITIAL_ORDER,
        "order_access": OrderAccess.INITIAL_ONLY,
        "service_model": ServiceModel.PARENT_ONLY,
        "renewal_owner": RenewalOwner.PARENT,
        "renewal_exclusive_days": 0,
        "renewal_commission": True,
        "renewal_commission_rate": Decimal("5.00"),
        "renewal_uplift_percent": Decimal("5.00"),
        "renewal_parent_marketing": True,
        "pipeline_visibility": PipelineVisibility.ALWAYS,
        "commission_model": CommissionModel.ON_CLOSE,
        "referral_fee": Decimal("0.00"),
        "commission_rate": Decimal("10.00"),
        "marketing_model": MarketingModel.PARENT_COLLATERAL,
    },
    BusinessModel.REGISTRATION_RETENTION: {
        "customer_owner": CustomerOwner.PARTNER,
        "customer_awareness": CustomerAwareness.AWARE,
        "post_win_visibility": PostWinVisibility.FULL,
        "quote_access": QuoteAccess.SELF_SERVICE,
        "order_access": OrderAccess.FULL,
        "service_model": ServiceModel.PARTNER_ONLY,
        "renewal_owner": RenewalOwner.PARTNER,
        "renewal_exclusive_days": 0,
        "renewal_commission": False,
        "renewal_commission_rate": Decimal("0.00"),
        "renewal_uplift_percent": Decimal("5.00"),
        "renewal_parent_marketing": False,
        "pipeline_visibility": PipelineVisibility.ALWAYS,
        "commission_model": CommissionModel.MARGIN,
        "referral_fee": Decimal("0.00"),
        "commission_rate": Decimal("0.00"),
        "marketing_model": MarketingModel.PARTNER_LED,
    },
    BusinessModel.DUAL: {
        "customer_owner": CustomerOwner.SHARED,
        "customer_awareness": CustomerAwareness.EITHER,
        "post_win_visibility": PostWinVisibility.FULL,
        "quote_access": QuoteAccess.SELF_SERVICE,
        "order_access": OrderAccess.FULL,
        "service_model": ServiceModel.EITHER,
        "renewal_owner": RenewalOwner.SHARED,
        "renewal_exclusive_days": 90,
        "renewal_commission": True,
        "renewal_commission_rate": Decimal("5.00"),
        "renewal_uplift_percent": Decimal("5.00"),
        "renewal_parent_marketing": True,
        "pipeline_visibility": PipelineVisibility.ALWAYS,
        "commission_model": CommissionModel.ON_CLOSE,
        "referral_fee": Decimal("0.00"),
        "commission_rate": Decimal("8.00"),
        "marketing_model": MarketingModel.EITHER,
    },
    BusinessModel.WHITE_LABEL: {
        "customer_owner": CustomerOwner.PARTNER,
        "customer_awareness": CustomerAwareness.PARTNER_ONLY,
        "post_win_visibility": PostWinVisibility.FULL,
        "quote_access": QuoteAccess.SELF_SERVICE_BRANDED,
        "order_access": OrderAccess.FULL,
        "service_model": ServiceModel.PARTNER_ONLY,
        "renewal_owner": RenewalOwner.PARTNER,
        "renewal_exclusive_days": 0,
        "renewal_commission": False,
        "renewal_commission_rate": Decimal("0.00"),
        "renewal_uplift_percent": Decimal("5.00"),
        "renewal_parent_marketing": False,
        "pipeline_visibility": PipelineVisibility.AFTER_ORDER,
        "commission_model": CommissionModel.MARGIN,
        "referral_fee": Decimal("0.00"),
        "commission_rate": Decimal("0.00"),
        "marketing_model": MarketingModel.PARTNER_BRAND,
    },
}


def _amount(value) -> str:
    """10.00 → "10", 7.50 → "7.5": how a person writes a rate."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(agreement) -> list[str]:
    """The agreement in words, as the portal shows it to the partner ("your program lets you…"): one
    sentence for every dimension. `{parent}` stands for the parent's name (or "your provider" where
    the parent is invisible), `{brand}` for the partner's own brand."""
    lines = [
        {
            CustomerOwner.PARENT: "Customers you bring are owned by {parent} after registration.",
            CustomerOwner.PARTNER: "You own the customer relationship after registration.",
            CustomerOwner.SHARED: "You and {parent} share responsibility for your customers.",
        }[agreement.customer_owner],
        {
            CustomerAwareness.REFERRED: "Your customers know that you referred them to {parent}.",
            CustomerAwareness.PARTNER_INVISIBLE: "Your customers deal with {parent}; you stay in the background.",
            CustomerAwareness.AWARE: "Your customers know you as their partner for {parent}'s services.",
            CustomerAwareness.EITHER: "You decide per customer whether it deals with you, with {parent} or with both.",
            CustomerAwareness.PARTNER_ONLY: "Your customers know only {brand}; your provider stays invisible to them.",
        }[agreement.customer_awareness],
        {
            PostWinVisibility.STATUS_ONLY: "After a win you see the status of what you referred and your own "
            "commission.",
            PostWinVisibility.BASIC: "After a win you see the basic account and its initial order.",
            PostWinVisibility.FULL: "You see everything about your customers.",
        }[agreement.post_win_visibility],
        {
            QuoteAccess.NONE: "{parent} prepares quotes; you can request one for your customer.",
            QuoteAccess.INITIAL_ORDER: "You can quote the initial order of a customer you registered.",
            QuoteAccess.SELF_SERVICE: "You quote for your customers yourself.",
            QuoteAccess.SELF_SERVICE_BRANDED: "You quote for your customers yourself; quotes carry only the "
            "{brand} brand.",
        }[agreement.quote_access],
        {
            OrderAccess.NONE: "{parent} places the orders for the customers you bring.",
            OrderAccess.INITIAL_ONLY: "You place a customer's initial order; {parent} handles the orders after it.",
            OrderAccess.FULL: "You place every order for your customers.",
        }[agreement.order_access],
        {
            ServiceModel.PARENT_ONLY: "Customer service is provided by {parent}; you can open cases and follow "
            "their status.",
            ServiceModel.EITHER: "Customers who contact you are served by your agents, who take simple cases and "
            "escalate complex ones to {parent}; customers who contact {parent} are served by {parent}.",
            ServiceModel.PARTNER_ONLY: "You provide all customer service; {parent} sees cases for oversight.",
        }[agreement.service_model],
    ]
    if agreement.renewal_owner == RenewalOwner.PARENT:
        lines.append(
            "{parent} renews your customers"
            + (
                f" and pays you a renewal commission of {agreement.renewal_commission_rate}%."
                if agreement.renewal_commission
                else "."
            )
        )
    elif agreement.renewal_owner == RenewalOwner.PARTNER:
        lines.append(
            "You own your customers' renewals; "
            + (
                "{parent} may also send them marketing about their renewal."
                if agreement.renewal_parent_marketing
                else "{parent} does not market to them about their renewal."
            )
        )
    else:
        lines.append(
            f"Renewals are yours exclusively for {agreement.renewal_exclusive_days} days before the contract "
            "ends; after that {parent} may pursue them too."
        )
    if agreement.renewal_owner == RenewalOwner.SHARED:
        if agreement.renewal_commission:
            lines.append("When {parent} renews one of your customers, you earn a renewal commission.")
        else:
            lines.append("No renewal commission is paid on renewals {parent} makes.")
    if agreement.renewal_uplift_percent:
        lines.append(f"Renewals are proposed at {agreement.renewal_uplift_percent}% above the current annual value.")
    lines.append(
        {
            CommissionModel.ON_REFERRAL: f"You earn a fee of {agreement.referral_fee} per accepted referral.",
            CommissionModel.ON_CLOSE: f"You earn {_amount(agreement.commission_rate)}% commission on closed deals.",
            CommissionModel.MARGIN: "You earn through your margin (discount); no commission is paid.",
        }[agreement.commission_model]
    )
    if agreement.pipeline_visibility == PipelineVisibility.AFTER_ORDER:
        lines.append("{parent} sees your pipeline only once an order is placed.")
    else:
        lines.append("{parent} sees your pipeline.")
    lines.append(
        {
            MarketingModel.PARENT_LED: "{parent} runs the marketing and passes the leads it generates to you.",
            MarketingModel.PARENT_COLLATERAL: "You market with {parent}'s collateral only, co-branded with your "
            "contact details.",
            MarketingModel.PARTNER_LED: "You run your own marketing and may use {parent}'s content.",
            MarketingModel.EITHER: "Marketing is done by you, by {parent}, or by both together.",
            MarketingModel.PARTNER_BRAND: "You run your own marketing under your own brand, {brand}.",
        }[agreement.marketing_model]
    )
    return lines
