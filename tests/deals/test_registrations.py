import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from deals import services
from deals.models import (
    REGISTRATION_TRANSITIONS,
    DealRegistration,
    Opportunity,
    OpportunityFlow,
    RegistrationConflict,
    RegistrationStatus,
)
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Commission, Customer
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, ProductFactory, customer_of, parent_user, partner_user
from tests.factories.deals import DealRegistrationFactory, registration_of

pytestmark = pytest.mark.django_db
URL = "/api/v1/deal-registrations/"


@pytest.fixture
def product():
    return ProductFactory()


@pytest.fixture
def reviewer(db):
    return parent_user(ParentRole.SALES, username="sales-reviewer")


def payload(product, **overrides):
    body = {
        "customer_name": "Acme, Inc.",
        "customer_domain": "https://www.acme.example/",
        "customer_country": "US",
        "estimated_value": "12500.00",
        "expected_close_date": str(timezone.localdate() + datetime.timedelta(days=30)),
        "lines": [{"product": product.pk, "quantity": 4}],
    }
    body.update(overrides)
    return body


def test_partner_registers_and_submits_through_the_api(partner_a, rep_a, product):
    response = api_as(rep_a).post(URL, payload(product, submit=True), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted"
    assert body["protected_until"] is None
    assert body["has_conflict"] is False
    assert "conflicts" not in body
    assert body["lines"] == [{"product": product.pk, "quantity": 4}]
    registration = DealRegistration.objects.get(pk=body["id"])
    assert registration.normalized_name == "acme" and registration.domain_key == "acme.example"
    assert AuditEvent.objects.filter(verb="deal_registration.submit", object_id=str(registration.pk)).exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"customer_name": None}, "customer_name"),
        ({"customer_country": "USA"}, "customer_country"),
        ({"estimated_value": "-5"}, "estimated_value"),
        ({"estimated_value": "abc"}, "estimated_value"),
        ({"expected_close_date": "tomorrow"}, "expected_close_date"),
        ({"expected_close_date": "2020-01-31"}, "expected_close_date"),
        ({"lines": []}, "lines"),
        ({"lines": [{"product": 999999, "quantity": 1}]}, "lines"),
        ({"lines": [{"product": "PRODUCT", "quantity": 0}]}, "lines"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_registration_input_is_400_and_writes_nothing(rep_a, product, change, field):
    body = payload(product, **change)
    body = {k: v for k, v in body.items() if v is not None}
    if body.get("lines") and body["lines"][0]["product"] == "PRODUCT":
        body["lines"][0]["product"] = product.pk
    response = api_as(rep_a).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert DealRegistration.objects.count() == 0


def test_registration_for_an_existing_customer_fills_its_details(partner_a, rep_a, product):
    customer = customer_of(partner_a, owner=rep_a, legal_name="Known GmbH", domain="known.de", country="DE")
    body = payload(product, customer=customer.pk)
    for name in ("customer_name", "customer_domain", "customer_country"):
        body.pop(name)
    response = api_as(rep_a).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["customer_name"] == "Known GmbH"
    assert response.json()["customer_country"] == "DE"


def test_another_partners_customer_is_a_400(rep_a, product):
    other = customer_of(PartnerFactory())
    response = api_as(rep_a).post(URL, payload(product, customer=other.pk), format="json")
    assert response.status_code == 400
    assert "customer" in response.json()


@pytest.mark.parametrize("role", [PartnerRole.SUPPORT, PartnerRole.MARKETING])
def test_non_selling_roles_may_not_register(partner_a, role, product):
    user = partner_user(partner_a, role)
    assert api_as(user).post(URL, payload(product), format="json").status_code == 403
    assert DealRegistration.objects.count() == 0


def test_parent_staff_may_not_register(reviewer, product):
    assert api_as(reviewer).post(URL, payload(product), format="json").status_code == 403


# Conflicts ---------------------------------------------------------------------------------------


def test_conflict_is_flagged_for_the_later_submission_reviewer_sees_why_partner_only_that(
    partner_a, partner_b, rep_a, reviewer, product
):
    rep_b = partner_user(partner_b, PartnerRole.REP)
    first = registration_of(rep_a, name="Globex Corporation", domain="globex.com", products=[product])
    second = registration_of(rep_b, name="GLOBEX corp.", domain="www.eu.globex.com", products=[product])
    assert first.has_conflict is False
    assert second.has_conflict is True
    partner_view = api_as(rep_b).get(f"{URL}{second.pk}/").json()
    assert partner_view["has_conflict"] is True
    assert "conflicts" not in partner_view
    assert partner_a.name not in str(partner_view)
    reviewer_view = api_as(reviewer).get(f"{URL}{second.pk}/").json()
    [conflict] = reviewer_view["conflicts"]
    assert conflict["kind"] == "registration"
    assert conflict["conflicting_registration"] == first.pk
    assert conflict["reasons"] == ["name", "domain", "product"]
    assert partner_a.name in conflict["detail"]


def test_no_conflict_without_a_common_product_or_in_another_country(partner_a, partner_b, rep_a):
    rep_b = partner_user(partner_b, PartnerRole.REP)
    registration_of(rep_a, name="Initech", domain="initech.com")
    assert registration_of(rep_b, name="Initech", domain="initech.com").has_conflict is False  # other product
    p = ProductFactory()
    registration_of(rep_a, name="Umbrella", domain="umbrella.com", products=[p])
    assert (
        registration_of(rep_b, name="Umbrella", domain="umbrella.com", country="DE", products=[p]).has_conflict is False
    )


def test_conflicts_with_customers_owned_by_others_and_parent_opportunities(partner_a, rep_a, reviewer):
    other = PartnerFactory()
    Customer.objects.create(legal_name="Owned Elsewhere AG", domain="owned.example", country="US", owner_partner=other)
    parent_customer = Customer.objects.create(legal_name="Direct Co", domain="direct.example", country="US")
    services.opportunity_create(user=reviewer, name="Direct deal", amount=Decimal("100"), customer=parent_customer)
    owned = registration_of(rep_a, name="Owned Elsewhere", domain="")
    direct = registration_of(rep_a, name="Different name", domain="shop.direct.example")
    assert owned.has_conflict and direct.has_conflict
    kinds = set(RegistrationConflict.objects.values_list("registration_id", "kind"))
    assert kinds == {(owned.pk, "customer"), (direct.pk, "opportunity"), (direct.pk, "customer")}
    # The partner's own customer is not a conflict.
    mine = customer_of(partner_a, owner=rep_a, legal_name="Mine Inc", domain="mine.example")
    assert registration_of(rep_a, name="Mine", domain="mine.example").has_conflict is False
    assert mine.pk


def test_first_in_wins_and_no_approval_while_a_conflicting_one_is_protected(partner_a, partner_b, rep_a, reviewer):
    rep_b = partner_user(partner_b, PartnerRole.REP)
    product = ProductFactory()
    first = registration_of(rep_a, name="Hooli", domain="hooli.com", products=[product])
    second = registration_of(rep_b, name="Hooli Inc", domain="hooli.com", products=[product])
    client = api_as(reviewer)
    refused = client.post(f"{URL}{second.pk}/approve/", {})
    assert refused.status_code == 400 and "submitted first" in str(refused.json())
    assert client.post(f"{URL}{first.pk}/approve/", {}).status_code == 200
    refused = client.post(f"{URL}{second.pk}/approve/", {})
    assert refused.status_code == 400 and "protected until" in str(refused.json())
    second.refresh_from_db()
    assert second.status == RegistrationStatus.SUBMITTED
    # Once the first one's protection is over, the second may be approved.
    DealRegistration.objects.filter(pk=first.pk).update(protected_until=timezone.now() - datetime.timedelta(days=1))
    services.deal_registration_expire(registration_id=first.pk)
    # The account is the first partner's customer now: one record per customer, so approving the
    # second partner's registration needs an explicit override with a reason.
    refused = client.post(f"{URL}{second.pk}/approve/", {})
    assert refused.status_code == 400 and "override_conflicts" in refused.json()
    overridden = client.post(f"{URL}{second.pk}/approve/", {"override_conflicts": True, "reason": "Customer moved"})
    assert overridden.status_code == 200, overridden.json()
    assert Customer.objects.filter(normalized_name="hooli").count() == 1


# Decisions ---------------------------------------------------------------------------------------


def test_approval_starts_protection_by_tier_creates_customer_and_opportunity(partner_a, rep_a, reviewer):
    partner_a.tier.protection_days = 120
    partner_a.tier.save()
    registration = registration_of(rep_a, name="Vandelay Industries", domain="vandelay.com")
    response = api_as(reviewer).post(f"{URL}{registration.pk}/approve/", {"reason": "Looks good"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "approved"
    registration.refresh_from_db()
    assert (registration.protected_until - registration.approved_at).days == 120
    assert body["days_left"] in (119, 120)
    customer = registration.customer
    assert customer.owner_partner == partner_a  # registration & retention: the partner owns it
    assert customer.relationships.get().partner == partner_a
    opportunity = Opportunity.objects.get(registration=registration)
    assert opportunity.flow == OpportunityFlow.PARTNER_MANAGED and opportunity.owner == rep_a
    assert Commission.objects.count() == 0  # margin model: no commission


def test_referral_partner_hands_the_deal_to_the_parent_and_earns_the_fee(reviewer):
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Kramerica")
    services.deal_registration_approve(user=reviewer, registration=registration)
    registration.refresh_from_db()
    assert registration.customer.owner_partner is None
    opportunity = Opportunity.objects.get(registration=registration)
    assert opportunity.flow == OpportunityFlow.HANDED_TO_PARENT and opportunity.managed_by == "parent"
    [fee] = Commission.objects.all()
    assert fee.partner == partner and fee.source == "referral" and fee.amount == Decimal("500.00")
    # Idempotent per event: accruing again gives the same entry.
    services.ledger.commission_accrue(
        partner=partner, source="referral", source_ref=f"deal-registration:{registration.pk}", amount=Decimal("500")
    )
    assert Commission.objects.count() == 1


@override_settings(DEALS_SECOND_APPROVAL_ABOVE="50000")
def test_above_the_threshold_a_second_different_approver_is_needed(rep_a, reviewer):
    second = parent_user(ParentRole.CHANNEL_MANAGER, partners=[rep_a.membership.partner])
    registration = registration_of(rep_a, value="75000.00")
    client = api_as(reviewer)
    body = client.post(f"{URL}{registration.pk}/approve/", {}).json()
    assert body["status"] == "submitted" and body["awaiting_second_approval"] is True
    assert client.post(f"{URL}{registration.pk}/approve/", {}).status_code == 403
    assert api_as(second).post(f"{URL}{registration.pk}/approve/", {}).json()["status"] == "approved"


def test_reject_and_return_need_a_reason(rep_a, reviewer):
    registration = registration_of(rep_a)
    client = api_as(reviewer)
    for verb in ("reject", "return"):
        response = client.post(f"{URL}{registration.pk}/{verb}/", {})
        assert response.status_code == 400 and "reason" in response.json()
    assert client.post(f"{URL}{registration.pk}/return/", {"reason": "Add seats"}).json()["status"] == "returned"
    # The partner edits and resubmits.
    edit = api_as(rep_a).patch(f"{URL}{registration.pk}/", {"estimated_value": "13000.00"}, format="json")
    assert edit.status_code == 200, edit.json()
    assert api_as(rep_a).post(f"{URL}{registration.pk}/submit/").json()["status"] == "submitted"
    assert client.post(f"{URL}{registration.pk}/reject/", {"reason": "Duplicate"}).json()["status"] == "rejected"
    assert AuditEvent.objects.filter(verb="deal_registration.reject", reason="Duplicate").exists()


def test_partner_may_not_decide_and_reviewer_may_not_submit(rep_a, reviewer):
    registration = registration_of(rep_a)
    assert api_as(rep_a).post(f"{URL}{registration.pk}/approve/").status_code == 403
    draft = registration_of(rep_a, name="Draft Co", submit=False)
    assert api_as(reviewer).post(f"{URL}{draft.pk}/submit/").status_code == 403
    assert api_as(reviewer).patch(f"{URL}{draft.pk}/", {"notes": "x"}, format="json").status_code == 403


def test_edit_only_while_draft_or_returned(rep_a):
    registration = registration_of(rep_a)
    response = api_as(rep_a).patch(f"{URL}{registration.pk}/", {"notes": "late"}, format="json")
    assert response.status_code == 400 and "status" in response.json()


# The state machine: every legal and illegal move -------------------------------------------------

MOVES = {
    RegistrationStatus.SUBMITTED: lambda user, reviewer, r: services.deal_registration_submit(
        user=user, registration=r
    ),
    RegistrationStatus.APPROVED: lambda user, reviewer, r: services.deal_registration_approve(
        user=reviewer, registration=r
    ),
    RegistrationStatus.REJECTED: lambda user, reviewer, r: services.deal_registration_reject(
        user=reviewer, registration=r, reason="no"
    ),
    RegistrationStatus.RETURNED: lambda user, reviewer, r: services.deal_registration_return(
        user=reviewer, registration=r, reason="fix"
    ),
    RegistrationStatus.WITHDRAWN: lambda user, reviewer, r: services.deal_registration_withdraw(
        user=user, registration=r
    ),
    RegistrationStatus.CANCELLED: lambda user, reviewer, r: services.deal_registration_cancel(
        user=reviewer, registration=r, reason="stop"
    ),
    RegistrationStatus.EXPIRED: lambda user, reviewer, r: (
        DealRegistration.objects.filter(pk=r.pk).update(protected_until=timezone.now() - datetime.timedelta(seconds=1))
        if r.status == RegistrationStatus.APPROVED
        else None,
        services.deal_registration_expire(registration_id=r.pk) or _raise_illegal(),
    ),
    RegistrationStatus.WON: lambda user, reviewer, r: services.opportunity_mark_won(
        user=user, opportunity=_opportunity_or_illegal(r), amount=Decimal("10")
    ),
    RegistrationStatus.LOST: lambda user, reviewer, r: services.opportunity_mark_lost(
        user=user, opportunity=_opportunity_or_illegal(r), reason="price"
    ),
}


def _raise_illegal():
    from django.core.exceptions import ValidationError

    raise ValidationError("illegal")


def _opportunity_or_illegal(registration):
    opportunity = Opportunity.objects.filter(registration=registration).first()
    if opportunity is None or registration.status != RegistrationStatus.APPROVED:
        _raise_illegal()
    return opportunity


def _reach(status, rep, reviewer):
    """A registration of the rep's partner in `status`, written directly (the moves under test
    run through the services)."""
    now = timezone.now()
    fields = {"status": status, "created_by": rep, "partner": rep.membership.partner}
    if status != RegistrationStatus.DRAFT:
        fields["submitted_at"] = now
    if status in (
        RegistrationStatus.APPROVED,
        RegistrationStatus.WON,
        RegistrationStatus.LOST,
        RegistrationStatus.EXPIRED,
        RegistrationStatus.CANCELLED,
    ):
        fields |= {"approved_at": now, "protected_until": now + datetime.timedelta(days=90)}
    registration = DealRegistrationFactory(**fields)
    if "approved_at" in fields:
        Opportunity.objects.create(
            partner=registration.partner,
            flow=OpportunityFlow.PARTNER_MANAGED,
            managed_by="partner",
            name="From registration",
            amount=Decimal("100"),
            owner=rep,
            registration=registration,
            stage="qualification" if status == RegistrationStatus.APPROVED else "closed_lost",
        )
    return registration


ALL_MOVES = [(a, b) for a in RegistrationStatus for b in MOVES]


@pytest.mark.parametrize("current, target", ALL_MOVES, ids=[f"{a.value}->{b.value}" for a, b in ALL_MOVES])
def test_registration_state_machine(current, target, partner_a, rep_a, reviewer):
    from django.core.exceptions import ValidationError

    registration = _reach(current, rep_a, reviewer)
    legal = target in REGISTRATION_TRANSITIONS[current]
    if legal:
        MOVES[target](rep_a, reviewer, registration)
        registration.refresh_from_db()
        assert registration.status == target
    else:
        with pytest.raises(ValidationError):
            MOVES[target](rep_a, reviewer, registration)
        registration.refresh_from_db()
        assert registration.status == current


# Extensions, pre-check ---------------------------------------------------------------------------


def test_at_most_two_extensions_approved_by_the_parent(rep_a, reviewer):
    registration = registration_of(rep_a)
    services.deal_registration_approve(user=reviewer, registration=registration)
    registration.refresh_from_db()
    until = registration.protected_until
    partner_client, parent_client = api_as(rep_a), api_as(reviewer)
    url = f"{URL}{registration.pk}/"
    assert partner_client.post(f"{url}request-extension/", {"days": 0, "reason": "x"}).status_code == 400
    assert (
        partner_client.post(f"{url}request-extension/", {"days": 30, "reason": "Board meets late"}).status_code == 200
    )
    assert (
        partner_client.post(f"{url}request-extension/", {"days": 30, "reason": "again"}).status_code == 400
    )  # pending
    assert partner_client.post(f"{url}approve-extension/", {}).status_code == 403
    assert parent_client.post(f"{url}approve-extension/", {}).status_code == 200
    registration.refresh_from_db()
    assert registration.protected_until == until + datetime.timedelta(days=30)
    assert partner_client.post(f"{url}request-extension/", {"days": 10, "reason": "Legal review"}).status_code == 200
    assert parent_client.post(f"{url}reject-extension/", {"reason": "No"}).status_code == 200
    third = partner_client.post(f"{url}request-extension/", {"days": 10, "reason": "Please"})
    assert third.status_code == 400 and "At most 2" in str(third.json())
    assert len(partner_client.get(url).json()["extensions"]) == 2


def test_pre_check_answers_only_yes_or_no_is_audited_and_rate_limited(partner_b, rep_a, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "precheck": "3/minute"},
    }
    rep_b = partner_user(partner_b, PartnerRole.REP)
    registration_of(rep_b, name="Soylent Corp", domain="soylent.com")
    client = api_as(rep_a)
    body = {"customer_name": "SOYLENT", "customer_domain": "", "customer_country": "US"}
    taken = client.post(f"{URL}pre-check/", body)
    assert taken.status_code == 200 and taken.json() == {"available": False}
    free = client.post(f"{URL}pre-check/", {**body, "customer_name": "Free Co"})
    assert free.json() == {"available": True}
    assert client.post(f"{URL}pre-check/", {**body, "customer_country": "usa"}).status_code == 400
    assert client.post(f"{URL}pre-check/", body).status_code == 429
    assert AuditEvent.objects.filter(verb="deal_registration.pre_check").count() == 2


# Isolation, lists, anonymous ---------------------------------------------------------------------


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_registration_is_absent_and_404_for_every_verb(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    user = partner_user(mine, role)
    own = DealRegistrationFactory(partner=mine, created_by=user)
    other = DealRegistrationFactory(partner=PartnerFactory(), status=RegistrationStatus.SUBMITTED)
    client = api_as(user)
    listed = {row["id"] for row in client.get(f"{URL}?page_size=100").json()["results"]}
    assert own.pk in listed and other.pk not in listed
    url = f"{URL}{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.put(url, {"notes": "x"}, format="json").status_code == 404
    assert client.patch(url, {"notes": "x"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    for verb in (
        "submit",
        "approve",
        "reject",
        "return",
        "withdraw",
        "cancel",
        "request-extension",
        "approve-extension",
        "reject-extension",
    ):
        assert client.post(f"{url}{verb}/", {"reason": "x", "days": 5}).status_code == 404, verb
    other.refresh_from_db()
    assert other.status == RegistrationStatus.SUBMITTED and other.notes == ""


def test_rep_sees_own_registrations_admin_sees_all_of_the_partner(partner_a, rep_a, admin_a):
    own = DealRegistrationFactory(partner=partner_a, created_by=rep_a)
    colleague = DealRegistrationFactory(partner=partner_a, created_by=admin_a)
    assert {r["id"] for r in api_as(rep_a).get(URL).json()["results"]} == {own.pk}
    assert {r["id"] for r in api_as(admin_a).get(URL).json()["results"]} == {own.pk, colleague.pk}


def test_channel_manager_sees_only_granted_partners(partner_a, partner_b):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    granted = DealRegistrationFactory(partner=partner_a)
    other = DealRegistrationFactory(partner=partner_b)
    client = api_as(manager)
    assert {r["id"] for r in client.get(URL).json()["results"]} == {granted.pk}
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert client.post(f"{URL}{other.pk}/approve/").status_code == 404


@pytest.mark.parametrize("page_size", [1, 50])
def test_registration_list_query_count_is_constant(partner_a, admin_a, page_size, reviewer):
    product = ProductFactory()
    for _ in range(55):
        DealRegistrationFactory(partner=partner_a, created_by=admin_a, products=[product])
    counts = {}
    for user in (admin_a, reviewer):
        client = api_as(user)
        client.get(f"{URL}?page_size=1")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{URL}?page_size={page_size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        counts[user.username] = len(queries)
    assert counts[admin_a.username] <= 6, counts
    assert counts[reviewer.username] <= 7, counts


def test_anonymous_is_401(api):
    assert api.get(URL).status_code == 401
    assert api.post(f"{URL}pre-check/", {}).status_code == 401


def test_approval_links_a_parent_customer_instead_of_duplicating_it(rep_a, reviewer):
    existing = Customer.objects.create(legal_name="Parent Owned Ltd", domain="parentowned.example", country="US")
    registration = registration_of(rep_a, name="Parent Owned", domain="www.parentowned.example")
    assert registration.has_conflict  # the reviewer sees the parent's customer
    with pytest.raises(ValidationError) as refused:
        services.deal_registration_approve(user=reviewer, registration=registration)
    assert "Parent Owned Ltd" in str(refused.value) and "override_conflicts" in refused.value.message_dict
    services.deal_registration_approve(
        user=reviewer, registration=registration, override_conflicts=True, reason="The parent hands it over"
    )
    registration.refresh_from_db()
    assert registration.customer == existing
    assert Customer.objects.filter(normalized_name="parent owned").count() == 1
    assert existing.relationships.get().partner == rep_a.membership.partner


def test_list_filters_search_and_ordering(partner_a, admin_a):
    a = DealRegistrationFactory(partner=partner_a, created_by=admin_a, customer_name="Alpha One", status="submitted")
    b = DealRegistrationFactory(partner=partner_a, created_by=admin_a, customer_name="Beta Two", customer_country="DE")
    client = api_as(admin_a)
    ids = lambda q: [r["id"] for r in client.get(f"{URL}?{q}").json()["results"]]  # noqa: E731
    assert ids("status=submitted") == [a.pk]
    assert ids("customer_country=de") == [b.pk]
    assert ids("search=beta") == [b.pk]
    assert ids("ordering=created_at") == [a.pk, b.pk]
    assert client.get(f"{URL}?status=bogus").status_code == 400
    assert client.get(f"{URL}?partner={PartnerFactory().pk}").status_code == 400  # not a partner it may see
