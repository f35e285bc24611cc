"""Demo marketing funds for `seed_demo`: a parent marketing user, last quarter's program (its unclaimed
funds about to expire) and this quarter's (allocated by tier), requests and claims in every state
(one claim refused as a duplicate invoice), parent campaigns that kept or distributed their leads, a
funded partner campaign, and the collateral library (co-branded for contoso, white-label-safe for
wingtip). Everything goes through the services. Idempotent: skipped once this quarter's program exists."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partners.access import ParentRole, forget_actor

from . import services
from .models import FundProgram, TierFund

CURRENT = "MDF current quarter"
PREVIOUS = "MDF previous quarter"
User = get_user_model()


def _proof(tag: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{tag}.pdf", f"%PDF-1.4 demo proof {tag}".encode(), content_type="application/pdf")


def _marketing_user(password):
    user, created = User.objects.get_or_create(
        username="parent-marketing",
        defaults={"first_name": "Parent", "last_name": "Marketing", "is_staff": True, "email": "marketing@helios.test"},
    )
    if created:
        user.set_password(password)
        user.save()
    user.groups.add(Group.objects.get(name=ParentRole.MARKETING))
    forget_actor(user)
    return user


def _request(user, allocation, title, amount, *, days_ago=20, submit=True, **fields):
    today = timezone.localdate()
    return services.fund_request_create(
        user=user,
        allocation=allocation,
        submit=submit,
        title=title,
        activity_type=fields.pop("activity_type", "event"),
        plan=fields.pop("plan", f"{title}: invitations, venue and follow-up calls."),
        starts_on=today - datetime.timedelta(days=days_ago),
        ends_on=today - datetime.timedelta(days=days_ago - 2),
        requested_amount=Decimal(amount),
        expected_leads=fields.pop("expected_leads", 20),
        expected_pipeline=Decimal(fields.pop("expected_pipeline", "50000")),
        **fields,
    )


def _claim(user, fund_request, tag, amount, vendor="Eventbrite Venues", invoice=None, submit=True):
    return services.fund_claim_create(
        user=user,
        fund_request=fund_request,
        vendor=vendor,
        invoice_number=invoice or f"INV-{tag}",
        invoice_date=fund_request.ends_on,
        amount=Decimal(amount),
        files=[(_proof(tag), "invoice")],
        submit=submit,
    )


def seed(context, stdout=None):
    say = stdout.write if stdout else (lambda msg: None)
    if FundProgram.objects.filter(name=CURRENT).exists():
        say("  MDF already seeded.")
        return
    from partners.demo import PASSWORD

    partners, people, staff, tiers = context["partners"], context["people"], context["staff"], context["tiers"]
    marketing, finance, admin = _marketing_user(PASSWORD), staff["parent-finance"], staff["parent-admin"]
    today = timezone.localdate()

    previous = FundProgram.objects.create(
        name=PREVIOUS,
        starts_on=today - datetime.timedelta(days=100),
        ends_on=today - datetime.timedelta(days=10),
        budget=Decimal("50000"),
        grace_days=30,
    )
    current = FundProgram.objects.create(
        name=CURRENT,
        starts_on=today - datetime.timedelta(days=45),
        ends_on=today + datetime.timedelta(days=45),
        budget=Decimal("200000"),
        accrual_percent=Decimal("2.00"),
    )
    for tier, amount in (("Registered", "5000"), ("Silver", "10000"), ("Gold", "20000"), ("Platinum", "40000")):
        TierFund.objects.create(program=current, tier=tiers[tier], amount=Decimal(amount))
    services.fund_allocations_by_tier(user=finance, program=current)
    # Last quarter's unclaimed funds expire within 30 days: fabrikam and tailspin are warned.
    for slug in ("fabrikam", "tailspin"):
        services.fund_allocation_create(user=finance, program=previous, partner=partners[slug], amount=Decimal("6000"))
    from .models import FundAllocation

    for allocation in FundAllocation.objects.filter(program=previous):
        services.fund_allocation_warn_expiry(allocation_id=allocation.pk)

    alloc = {a.partner.slug: a for a in FundAllocation.objects.filter(program=current).select_related("partner")}
    fab, tail, wing, con = (people[f"{s}-admin"] for s in ("fabrikam", "tailspin", "wingtip", "contoso"))

    # Requests in every state.
    _request(fab, alloc["fabrikam"], "Partner newsletter (draft)", "1500", submit=False, activity_type="email")
    _request(fab, alloc["fabrikam"], "Storage roadshow Munich", "6000", activity_type="trade_show")
    approved = _request(fab, alloc["fabrikam"], "Backup webinar series", "4000", activity_type="webinar")
    approved = services.fund_request_approve(
        user=marketing, fund_request=approved, amount=Decimal("3000"), reimbursement_percent=Decimal("50"),
        reason="Co-op 50%, capped at 3000 this quarter.",
    )  # fmt: skip
    rejected = _request(tail, alloc["tailspin"], "Golf day", "9000")
    services.fund_request_reject(user=marketing, fund_request=rejected, reason="Not a lead-generating activity.")
    returned = _request(tail, alloc["tailspin"], "Security breakfast", "2500")
    services.fund_request_return(user=marketing, fund_request=returned, reason="Add the expected attendee count.")
    cancelled = _request(tail, alloc["tailspin"], "Trade fair stand", "3000")
    services.fund_request_cancel(user=tail, fund_request=cancelled, reason="Fair postponed.")
    tail_ads = services.fund_request_approve(
        user=marketing,
        fund_request=_request(
            tail, alloc["tailspin"], "Search ads: managed Kubernetes", "5000", activity_type="digital_ads"
        ),
        reimbursement_percent=Decimal("100"),
    )
    wing_content = services.fund_request_approve(
        user=marketing,
        fund_request=_request(wing, alloc["wingtip"], "Own-brand content kit", "2000", activity_type="content",
                              uses_own_materials=True),
        reimbursement_percent=Decimal("75"),
    )  # fmt: skip
    services.fund_request_approve(
        user=marketing, fund_request=_request(con, alloc["contoso"], "Co-branded brochure mailing", "1200")
    )
    closed = services.fund_request_approve(
        user=marketing, fund_request=_request(fab, alloc["fabrikam"], "Partner day (nothing claimed)", "1000")
    )
    # Its claim deadline has passed: the periodic task closes it and gives the funds back.
    services.fund_request_close(request_id=closed.pk, today=closed.claim_deadline + datetime.timedelta(days=1))

    # Claims in every state.
    _claim(fab, approved, "fab-draft", "500", submit=False, vendor="PrintCo")
    _claim(fab, approved, "fab-submitted", "1200", vendor="Zoom Webinars")
    paid = _claim(tail, tail_ads, "tail-paid", "1800", vendor="AdWords Partner Agency", invoice="AWP-7781")
    services.fund_claim_approve(user=marketing, claim=paid)
    services.fund_claim_mark_paid(user=finance, claim=paid, payment_reference="SEPA-2026-0042")
    approved_claim = _claim(tail, tail_ads, "tail-approved", "900", vendor="LinkedIn Ads")
    services.fund_claim_approve(
        user=marketing, claim=approved_claim, amount=Decimal("700"), reason="One ad set off-brief."
    )
    rejected_claim = _claim(wing, wing_content, "wing-rejected", "400", vendor="StockPhotos Inc")
    services.fund_claim_reject(user=marketing, claim=rejected_claim, reason="Licence does not cover print.")
    returned_claim = _claim(wing, wing_content, "wing-returned", "800", vendor="Copywriters Ltd")
    services.fund_claim_return(user=marketing, claim=returned_claim, reason="Attach the signed invoice.")
    # The agency's invoice again, re-numbered, from another partner: an exact duplicate ("AWP 7781") is
    # refused on entry with nothing written; this near-duplicate passes that check and is refused in review.
    near = _claim(wing, wing_content, "wing-near", "1800", vendor="AdWords Partner Agency", invoice="AWP-7781-1")
    services.fund_claim_reject(
        user=marketing, claim=near, reason=f"Duplicate invoice: already claimed as {paid.reference}."
    )
    # Campaigns: one keeps its leads, one distributes them (northwind receives one), one the partner's own.
    from deals import services as deal_services

    services.campaign_create(
        user=marketing, name="Helios brand awareness", lead_handling="parent_only", starts_on=current.starts_on,
        ends_on=current.ends_on, description="Parent marketing with no reference to partners.",
    )  # fmt: skip
    launch = services.campaign_create(
        user=marketing, name="Spring cloud launch", lead_handling="distribute", countries="US,CA,GB,DE",
        starts_on=current.starts_on, ends_on=current.ends_on, budget=Decimal("25000"),
    )  # fmt: skip
    lead = deal_services.lead_create(
        user=admin, company_name="Adventure Works", country="US", source="campaign", contact_name="Pat Kim"
    )
    lead.campaign = launch
    lead.save(update_fields=["campaign", "updated_at"])
    deal_services.lead_forward(user=admin, lead=lead, partner=partners["northwind"], reason="Campaign lead")
    own = services.campaign_create(
        user=fab, name="Backup webinar series", starts_on=approved.starts_on, ends_on=approved.ends_on,
        fund_request=approved,
    )  # fmt: skip
    services.campaign_lead_create(user=fab, campaign=own, company_name="Litware Inc", country="DE")

    # Collateral: co-branded for the parent-collateral partner, white-label-safe for wingtip.
    services.asset_create(
        user=marketing, title="Helios Cloud Backup brochure", kind="brochure",
        marketing_models=["parent_collateral", "parent_led", "partner_led", "either"],
        body_html="<h1>Cloud backup from {provider_name}</h1><p>Your data, safe in three regions.</p>"
        "<p>{partner_logo} Talk to {contact_name} at {partner_name}: {contact_email} · {partner_website}</p>",
    )  # fmt: skip
    services.asset_create(
        user=marketing, title="Object storage datasheet", kind="datasheet", white_label_safe=True,
        body_html="<h1>Object storage by {provider_name}</h1><p>S3-compatible, 99.99% durability.</p>"
        "<p>Ask {contact_name} ({contact_email}).</p>",
    )  # fmt: skip
    say("  MDF: 2 programs, requests and claims in every state, 3 campaigns, 2 assets.")
