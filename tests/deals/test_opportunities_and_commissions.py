from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals import services
from deals.models import OPPORTUNITY_TRANSITIONS, Opportunity, OpportunityFlow, OpportunityStage, RegistrationStatus
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Commission, CommissionStatus
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.deals import OpportunityFactory, registration_of

pytestmark = pytest.mark.django_db
OPP = "/api/v1/opportunities/"
COM = "/api/v1/commissions/"


@pytest.fixture
def sales(db):
    return parent_user(ParentRole.SALES, username="parent-sales")


@pytest.fixture
def finance(db):
    return parent_user(ParentRole.FINANCE, username="parent-finance")


def approved_opportunity(business_model, reviewer, **agreement):
    partner = PartnerFactory(business_model=business_model, **{f"agreement__{k}": v for k, v in agreement.items()})
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name=f"Customer of {partner.slug}")
    services.deal_registration_approve(user=reviewer, registration=registration)
    return partner, rep, Opportunity.objects.get(registration=registration)


# Flows, attribution, commissions by agreement ----------------------------------------------------

# business model -> (flow on approval, who closes it, commission on approval, commission on close)
EXPECTED = {
    BusinessModel.REFERRAL: (OpportunityFlow.HANDED_TO_PARENT, "parent", Decimal("500.00"), None),
    BusinessModel.REGISTRATION_PARENT: (OpportunityFlow.HANDED_TO_PARENT, "parent", None, Decimal("2000.00")),
    BusinessModel.REGISTRATION_RETENTION: (OpportunityFlow.PARTNER_MANAGED, "partner", None, None),
    BusinessModel.DUAL: (OpportunityFlow.PARTNER_MANAGED, "partner", None, Decimal("1600.00")),
    BusinessModel.WHITE_LABEL: (OpportunityFlow.PARTNER_MANAGED, "partner", None, None),
}


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_each_business_model_flow_owner_and_commission(business_model, sales, finance):
    flow, closer, on_approval, on_close = EXPECTED[business_model]
    partner, rep, opportunity = approved_opportunity(business_model, sales)
    assert opportunity.flow == flow and opportunity.managed_by == closer
    assert opportunity.partner == partner  # attribution, whoever manages it
    owner = opportunity.registration.customer.owner_partner
    assert owner == (None if business_model in (BusinessModel.REFERRAL, BusinessModel.REGISTRATION_PARENT) else partner)
    fees = list(Commission.objects.filter(partner=partner).values_list("amount", flat=True))
    assert fees == ([on_approval] if on_approval else [])
    # Only whoever manages it may close it.
    other = rep if closer == "parent" else sales
    assert api_as(other).post(f"{OPP}{opportunity.pk}/mark-won/", {"amount": "20000.00"}).status_code in (403, 404)
    actor = sales if closer == "parent" else rep
    response = api_as(actor).post(f"{OPP}{opportunity.pk}/mark-won/", {"amount": "20000.00"})
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "closed_won"
    assert (
        opportunity.registration.__class__.objects.get(pk=opportunity.registration_id).status == RegistrationStatus.WON
    )
    # A win without an order accrues only once finance verifies it.
    closed = Commission.objects.filter(partner=partner, source="closed_deal")
    assert not closed.exists()
    if on_close:
        assert api_as(actor).post(f"{OPP}{opportunity.pk}/verify-win/", {}).status_code == 403
        response = api_as(finance).post(f"{OPP}{opportunity.pk}/verify-win/", {"reason": "Contract seen"})
        assert response.status_code == 200, response.json()
        [entry] = closed
        assert entry.amount == on_close and entry.base_amount == Decimal("20000.00")
    else:
        assert not closed.exists()
    # The partner sees its own attributed opportunity, even when the parent manages it.
    assert api_as(partner_user(partner, PartnerRole.ADMIN)).get(f"{OPP}{opportunity.pk}/").status_code == 200


def test_on_close_commission_is_half_up_to_cents(sales, finance):
    _, _, opportunity = approved_opportunity(BusinessModel.DUAL, sales, commission_rate=Decimal("7.50"))
    services.opportunity_mark_won(user=opportunity.owner, opportunity=opportunity, amount=Decimal("333.33"))
    services.opportunity_verify_win(user=finance, opportunity=opportunity)
    assert Commission.objects.get(source="closed_deal").amount == Decimal("25.00")  # 24.99975 -> 25.00


def test_parent_sees_partner_managed_pipeline_only_once_an_order_is_placed_when_so_agreed(sales):
    partner, rep, opportunity = approved_opportunity(BusinessModel.WHITE_LABEL, sales)
    admin = parent_user(ParentRole.ADMIN)
    assert api_as(admin).get(f"{OPP}{opportunity.pk}/").status_code == 404
    assert opportunity.pk not in {r["id"] for r in api_as(admin).get(OPP).json()["results"]}
    services.opportunity_mark_order_placed(user=rep, opportunity=opportunity)
    assert api_as(admin).get(f"{OPP}{opportunity.pk}/").status_code == 200
    # With "always" the parent sees it at once.
    _, _, always = approved_opportunity(BusinessModel.REGISTRATION_RETENTION, sales)
    assert api_as(admin).get(f"{OPP}{always.pk}/").status_code == 200


def test_parent_direct_opportunity_assigned_to_a_partner(sales):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    response = api_as(sales).post(OPP, {"name": "Direct", "amount": "900.00"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["flow"] == "direct" and body["partner"] is None and body["owner"] == sales.username
    rep = partner_user(partner, PartnerRole.ADMIN)
    assert api_as(rep).get(f"{OPP}{body['id']}/").status_code == 404
    assigned = api_as(sales).post(f"{OPP}{body['id']}/assign/", {"partner": partner.pk})
    assert assigned.status_code == 200, assigned.json()
    assert assigned.json()["flow"] == "assigned_to_partner" and assigned.json()["managed_by"] == "partner"
    assert api_as(rep).patch(f"{OPP}{body['id']}/", {"stage": "proposal"}, format="json").json()["probability"] == 40


def test_partner_creates_its_own_opportunity_by_agreement():
    referral = partner_user(PartnerFactory(business_model=BusinessModel.REFERRAL), PartnerRole.REP)
    retention = partner_user(PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION), PartnerRole.REP)
    handed = api_as(referral).post(OPP, {"name": "Referred", "amount": "100"}).json()
    own = api_as(retention).post(OPP, {"name": "Own", "amount": "100"}).json()
    assert (handed["flow"], handed["managed_by"]) == ("handed_to_parent", "parent")
    assert (own["flow"], own["managed_by"], own["owner"]) == ("partner_managed", "partner", retention.username)
    # The referral partner cannot work the handed-over opportunity, but sees it.
    assert api_as(referral).patch(f"{OPP}{handed['id']}/", {"stage": "proposal"}, format="json").status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "100"}, "name"),
        ({"name": "X", "amount": "-1"}, "amount"),
        ({"name": "X", "amount": "1", "stage": "closed_won"}, "stage"),
        ({"name": "X", "amount": "1", "probability": 150}, "probability"),
        ({"name": "X", "amount": "1", "colour": "red"}, "colour"),
    ],
)
def test_bad_opportunity_input_is_400(sales, body, field):
    response = api_as(sales).post(OPP, body)
    assert response.status_code == 400 and field in response.json()
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize("current", list(OpportunityStage))
def test_opportunity_stage_machine(current):
    partner = PartnerFactory()
    rep = partner_user(partner, PartnerRole.REP)
    for target in OpportunityStage:
        if target == current:
            continue
        opportunity = OpportunityFactory(partner=partner, owner=rep, stage=current)
        legal = target in OPPORTUNITY_TRANSITIONS[current]
        if target == OpportunityStage.CLOSED_WON:
            move = lambda o=opportunity: services.opportunity_mark_won(user=rep, opportunity=o)  # noqa: E731
        elif target == OpportunityStage.CLOSED_LOST:
            move = lambda o=opportunity: services.opportunity_mark_lost(user=rep, opportunity=o, reason="x")  # noqa: E731
        else:
            move = lambda o=opportunity, t=target: services.opportunity_update(user=rep, opportunity=o, stage=t)  # noqa: E731
        if legal:
            move()
            opportunity.refresh_from_db()
            assert opportunity.stage == target
        else:
            with pytest.raises(ValidationError):
                move()
            opportunity.refresh_from_db()
            assert opportunity.stage == current


def test_mark_lost_needs_a_reason_and_loses_the_registration(sales):
    partner, rep, opportunity = approved_opportunity(BusinessModel.DUAL, sales)
    assert api_as(rep).post(f"{OPP}{opportunity.pk}/mark-lost/", {}).status_code == 400
    assert api_as(rep).post(f"{OPP}{opportunity.pk}/mark-lost/", {"reason": "Budget cut"}).status_code == 200
    opportunity.registration.refresh_from_db()
    assert opportunity.registration.status == RegistrationStatus.LOST
    assert AuditEvent.objects.filter(verb="opportunity.lost", reason="Budget cut").exists()


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_opportunity_and_commission_are_404(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    user = partner_user(mine, role)
    other_partner = PartnerFactory()
    own = OpportunityFactory(partner=mine, owner=user)
    other = OpportunityFactory(partner=other_partner)
    # Commissions follow what they pay for: this one is on the user's own opportunity.
    own_fee = Commission.objects.create(
        partner=mine, source="closed_deal", source_ref=f"opportunity:{own.pk}", amount=Decimal("5")
    )
    other_fee = Commission.objects.create(
        partner=other_partner, source="closed_deal", source_ref=f"opportunity:{other.pk}", amount=Decimal("5")
    )
    client = api_as(user)
    assert {r["id"] for r in client.get(f"{OPP}?page_size=100").json()["results"]} == {own.pk}
    assert {r["id"] for r in client.get(f"{COM}?page_size=100").json()["results"]} == {own_fee.pk}
    for url, verbs in (
        (f"{OPP}{other.pk}/", ("mark-won", "mark-lost", "assign")),
        (f"{COM}{other_fee.pk}/", ("approve", "mark-paid", "reverse")),
    ):
        assert client.get(url).status_code == 404
        assert client.put(url, {"name": "x"}, format="json").status_code == 404
        assert client.patch(url, {"name": "x"}, format="json").status_code == 404
        assert client.delete(url).status_code == 404
        for verb in verbs:
            assert client.post(f"{url}{verb}/", {"reason": "x", "partner": mine.pk}).status_code == 404
    other.refresh_from_db()
    other_fee.refresh_from_db()
    assert other.stage == "qualification" and other_fee.status == "accrued"


# Commissions API ---------------------------------------------------------------------------------


def test_partner_reads_its_ledger_and_totals_finance_approves_pays_and_reverses(finance):
    partner = PartnerFactory()
    admin = partner_user(partner, PartnerRole.ADMIN)
    a = Commission.objects.create(partner=partner, source="referral", source_ref="r:1", amount=Decimal("100.00"))
    b = Commission.objects.create(partner=partner, source="referral", source_ref="r:2", amount=Decimal("50.00"))
    client = api_as(admin)
    assert client.get(f"{COM}totals/").json() == {
        "accrued": "150.00",
        "approved": "0.00",
        "paid": "0.00",
        "reversed": "0.00",
    }
    assert client.post(f"{COM}{a.pk}/approve/").status_code == 403
    money = api_as(finance)
    assert money.post(f"{COM}{a.pk}/approve/").json()["status"] == "approved"
    assert money.post(f"{COM}{a.pk}/mark-paid/", {"reference": "PAY-1"}).json()["payment_reference"] == "PAY-1"
    assert money.post(f"{COM}{a.pk}/approve/").status_code == 400  # paid is final
    assert money.post(f"{COM}{b.pk}/reverse/", {}).status_code == 400  # a reason is needed
    assert money.post(f"{COM}{b.pk}/reverse/", {"reason": "Duplicate"}).json()["status"] == "reversed"
    assert client.get(f"{COM}totals/").json() == {
        "accrued": "0.00",
        "approved": "0.00",
        "paid": "100.00",
        "reversed": "50.00",
    }
    assert api_as(parent_user(ParentRole.SALES)).post(f"{COM}{b.pk}/approve/").status_code == 403
    assert Commission.objects.get(pk=b.pk).status == CommissionStatus.REVERSED


@pytest.mark.parametrize("page_size", [1, 50])
def test_opportunity_and_commission_lists_query_count_is_constant(page_size):
    partner = PartnerFactory()
    admin = partner_user(partner, PartnerRole.ADMIN)
    for index in range(55):
        OpportunityFactory(partner=partner, owner=admin, registered_by=admin)
        Commission.objects.create(partner=partner, source="referral", source_ref=f"q:{index}", amount=Decimal("1"))
    counts = {}
    for user in (admin, parent_user(ParentRole.ADMIN)):
        client = api_as(user)
        for url in (OPP, COM):
            client.get(f"{url}?page_size=1")
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"{url}?page_size={page_size}")
            assert len(response.json()["results"]) == page_size
            counts[(user.username, url)] = len(queries)
    assert max(counts.values()) <= 5, counts


def test_anonymous_is_401(api):
    assert api.get(OPP).status_code == 401
    assert api.get(COM).status_code == 401


def test_owner_is_a_person_of_the_managing_side(sales):
    partner, rep, handed = approved_opportunity(BusinessModel.REGISTRATION_PARENT, sales)
    assert handed.owner is None  # in the parent's queue until someone takes it
    client = api_as(sales)
    url = f"{OPP}{handed.pk}/"
    assert client.patch(url, {"owner": rep.username}, format="json").status_code == 400  # a partner user
    assert client.patch(url, {"owner": "nobody"}, format="json").status_code == 400
    other_sales = parent_user(ParentRole.SALES, username="closer")
    response = client.patch(url, {"owner": "closer"}, format="json")
    assert response.status_code == 200 and response.json()["owner"] == other_sales.username
    assert response.json()["partner"] == partner.pk  # attribution unchanged
    # A partner-managed one goes to a colleague of the partner, never to someone elsewhere.
    _, own_rep, managed = approved_opportunity(BusinessModel.DUAL, sales)
    colleague = partner_user(managed.partner, PartnerRole.MANAGER, username="colleague")
    partner_client = api_as(own_rep)
    assert partner_client.patch(f"{OPP}{managed.pk}/", {"owner": rep.username}, format="json").status_code == 400
    assert (
        partner_client.patch(f"{OPP}{managed.pk}/", {"owner": "colleague"}, format="json").json()["owner"]
        == colleague.username
    )
    before = Opportunity.objects.count()
    assert api_as(own_rep).post(OPP, {"name": "Mine", "amount": "5", "owner": "closer"}).status_code == 400
    assert Opportunity.objects.count() == before


def test_parent_creates_a_direct_opportunity_for_a_colleague(sales):
    colleague = parent_user(ParentRole.SALES, username="colleague-sales")
    body = api_as(sales).post(OPP, {"name": "Direct", "amount": "5", "owner": "colleague-sales"}).json()
    assert body["owner"] == colleague.username and body["flow"] == "direct"
