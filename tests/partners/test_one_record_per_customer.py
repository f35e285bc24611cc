"""Issue 8, item 1: one record per customer, on every path by which a customer can arise."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from deals import services as deal_services
from deals.models import Opportunity, OpportunityStage
from partners import identity, services
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.merge import duplicate_groups
from partners.models import AuditEvent, Customer, CustomerClaim, CustomerRelationship
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.factories.deals import registration_of

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"
CLAIMS = "/api/v1/customer-claims/"


@pytest.fixture
def sales(db):
    return parent_user(ParentRole.SALES, username="one-record-sales")


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_a_partner_cannot_copy_another_partners_customer(business_model):
    """Today: POST /customers/ made a second record of another partner's customer."""
    theirs = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    original = customer_of(theirs, legal_name="Globex Corporation", domain="globex.com", country="US")
    rep = partner_user(PartnerFactory(business_model=business_model), PartnerRole.REP)

    response = api_as(rep).post(URL, {"legal_name": "GLOBEX, Inc.", "domain": "www.globex.com", "country": "US"})

    assert response.status_code == 202, response.json()
    assert Customer.objects.filter(normalized_name="globex").count() == 1
    body = response.json()
    assert body["status"] == "pending" and "matched_customer" not in body and theirs.slug not in str(body)
    claim = CustomerClaim.objects.get(pk=body["id"])
    assert claim.matched_customer == original
    # The partner still does not see the account, and cannot order against it.
    assert api_as(rep).get(f"{URL}{original.pk}/").status_code == 404
    # Asking twice is the same request.
    again = api_as(rep).post(URL, {"legal_name": "Globex", "domain": "globex.com", "country": "US"})
    assert again.status_code == 202 and again.json()["id"] == claim.pk


def test_the_same_domain_under_another_name_is_the_same_customer(partner_a, rep_a):
    original = customer_of(PartnerFactory(), legal_name="Initech", domain="initech.com")
    response = api_as(rep_a).post(URL, {"legal_name": "Initrode", "domain": "eu.initech.com", "country": "US"})
    assert response.status_code == 202
    assert CustomerClaim.objects.get().matched_customer == original
    assert not Customer.objects.filter(legal_name="Initrode").exists()


def test_a_customer_the_partner_holds_is_returned_not_duplicated(partner_a, rep_a):
    own = customer_of(partner_a, owner=rep_a, legal_name="Umbrella Corp", domain="umbrella.com")
    response = api_as(rep_a).post(URL, {"legal_name": "Umbrella", "domain": "umbrella.com", "country": "US"})
    assert response.status_code == 200 and response.json()["id"] == own.pk
    assert Customer.objects.filter(normalized_name="umbrella").count() == 1


def test_another_country_is_another_customer(partner_a, rep_a):
    customer_of(PartnerFactory(), legal_name="Stark GmbH", domain="stark.de", country="DE")
    response = api_as(rep_a).post(URL, {"legal_name": "Stark", "domain": "stark.com", "country": "US"})
    assert response.status_code == 201


def test_parent_staff_get_a_400_naming_the_existing_record(sales):
    original = customer_of(PartnerFactory(), legal_name="Soylent", domain="soylent.com")
    response = api_as(sales).post(URL, {"legal_name": "Soylent Ltd", "country": "US"})
    assert response.status_code == 400 and f"#{original.pk}" in str(response.json())
    assert Customer.objects.count() == 1


def test_portal_create_of_a_duplicate_sends_a_request_and_keeps_one_record(client, partner_a, rep_a):
    customer_of(PartnerFactory(), legal_name="Wonka Industries", domain="wonka.com")
    client.force_login(rep_a)
    response = client.post(
        "/portal/customers/new/", {"legal_name": "Wonka", "domain": "wonka.com", "country": "US"}, follow=True
    )
    assert response.status_code == 200
    assert "already a customer in the channel" in response.content.decode()
    assert Customer.objects.filter(domain_key="wonka.com").count() == 1
    assert CustomerClaim.objects.filter(partner=partner_a).count() == 1
    # The partner follows its request on the customer list; another partner does not see it.
    listing = client.get("/portal/customers/").content.decode()
    assert "Waiting for a decision" in listing and "Wonka" in listing
    client.force_login(partner_user(PartnerFactory(), PartnerRole.ADMIN))
    assert "Wonka" not in client.get("/portal/customers/").content.decode()


def test_admin_add_of_a_duplicate_is_a_form_error(client, parent_admin):
    customer_of(PartnerFactory(), legal_name="Tyrell Corporation", domain="tyrell.com")
    client.force_login(parent_admin)
    response = client.post(
        "/admin/partners/customer/add/",
        {
            "legal_name": "Tyrell",
            "domain": "",
            "country": "US",
            "status": "prospect",
            "relationships-TOTAL_FORMS": "0",
            "relationships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and "exists already" in response.content.decode()
    assert Customer.objects.filter(normalized_name="tyrell").count() == 1


def test_renaming_a_customer_into_another_is_refused(partner_a, admin_a):
    customer_of(PartnerFactory(), legal_name="Cyberdyne Systems", domain="cyberdyne.com")
    own = customer_of(partner_a, owner=admin_a, legal_name="Mine Inc", domain="mine.example")
    response = api_as(admin_a).patch(f"{URL}{own.pk}/", {"domain": "cyberdyne.com"})
    assert response.status_code == 400
    own.refresh_from_db()
    assert own.domain == "mine.example"


def test_the_database_refuses_a_second_record_of_one_customer():
    Customer.objects.create(legal_name="Oscorp", domain="oscorp.com", country="US")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(legal_name="OSCORP Inc.", country="US")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(legal_name="Oscorp Labs", domain="labs.oscorp.com", country="US")
    Customer.objects.create(legal_name="Oscorp", country="DE")  # another country


# The parent decides a claim ----------------------------------------------------------------------


def test_parent_links_the_partner_to_the_existing_account(partner_a, rep_a, sales):
    original = customer_of(PartnerFactory(), legal_name="Massive Dynamic", domain="massive.com")
    claim_id = api_as(rep_a).post(URL, {"legal_name": "Massive Dynamic", "country": "US"}).json()["id"]
    # The partner cannot decide its own request.
    assert api_as(rep_a).post(f"{CLAIMS}{claim_id}/link/", {"reason": "mine"}).status_code == 403
    assert api_as(sales).post(f"{CLAIMS}{claim_id}/link/", {}).status_code == 400  # a reason is required
    response = api_as(sales).post(f"{CLAIMS}{claim_id}/link/", {"reason": "Customer asked for Alpha"})
    assert response.status_code == 200 and response.json()["matched_customer"] == original.pk
    assert api_as(rep_a).get(f"{URL}{original.pk}/").status_code == 200
    assert Customer.objects.count() == 1
    assert AuditEvent.objects.filter(verb="customer_claim.link", reason="Customer asked for Alpha").exists()
    assert api_as(sales).post(f"{CLAIMS}{claim_id}/reject/", {"reason": "late"}).status_code == 400


def test_parent_rejects_a_claim_and_the_account_stays_hidden(partner_a, rep_a, sales):
    original = customer_of(PartnerFactory(), legal_name="Hooli XYZ", domain="hooli.xyz")
    claim_id = api_as(rep_a).post(URL, {"legal_name": "Hooli XYZ", "country": "US"}).json()["id"]
    assert api_as(sales).post(f"{CLAIMS}{claim_id}/reject/", {"reason": "Owned elsewhere"}).json()["status"] == (
        "rejected"
    )
    assert api_as(rep_a).get(f"{URL}{original.pk}/").status_code == 404
    assert api_as(rep_a).get(f"{CLAIMS}{claim_id}/").json()["status"] == "rejected"


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_claim_is_404_for_every_verb(business_model, role):
    other = PartnerFactory()
    customer_of(PartnerFactory(), legal_name="Contested Co", domain="contested.example")
    claim = services.customer_create(
        user=partner_user(other, PartnerRole.ADMIN), legal_name="Contested", country="US", domain="contested.example"
    )
    user = partner_user(PartnerFactory(business_model=business_model), role)
    client = api_as(user)
    assert claim.pk not in {row["id"] for row in client.get(CLAIMS).json()["results"]}
    assert client.get(f"{CLAIMS}{claim.pk}/").status_code == 404
    assert client.post(f"{CLAIMS}{claim.pk}/link/", {"reason": "x"}).status_code == 404
    assert client.delete(f"{CLAIMS}{claim.pk}/").status_code == 404


# Registration approval ---------------------------------------------------------------------------


@pytest.fixture
def reviewer(db):
    return parent_user(ParentRole.SALES, username="one-record-reviewer")


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_approval_matching_another_partners_customer_needs_an_override(business_model, reviewer):
    """Today: approval created a second customer with the same domain."""
    theirs = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    original = customer_of(theirs, legal_name="Pied Piper", domain="piedpiper.com")
    rep = partner_user(PartnerFactory(business_model=business_model), PartnerRole.REP)
    registration = registration_of(rep, name="Pied Piper Inc", domain="piedpiper.com")
    client = api_as(reviewer)

    refused = client.post(f"/api/v1/deal-registrations/{registration.pk}/approve/", {})
    assert refused.status_code == 400 and "Pied Piper" in str(refused.json()["override_conflicts"])
    without_reason = client.post(f"/api/v1/deal-registrations/{registration.pk}/approve/", {"override_conflicts": True})
    assert without_reason.status_code == 400 and "reason" in without_reason.json()
    registration.refresh_from_db()
    assert registration.status == "submitted" and Customer.objects.count() == 1

    approved = client.post(
        f"/api/v1/deal-registrations/{registration.pk}/approve/",
        {"override_conflicts": True, "reason": "The customer chose this partner"},
    )
    assert approved.status_code == 200, approved.json()
    registration.refresh_from_db()
    assert registration.customer == original and Customer.objects.count() == 1
    assert AuditEvent.objects.filter(
        verb="deal_registration.override", object_id=str(registration.pk), reason="The customer chose this partner"
    ).exists()


def test_approval_over_the_parents_open_direct_opportunity(partner_a, rep_a, reviewer):
    """Today: the partner got an originating relationship and full view while the parent's direct
    opportunity stayed open."""
    sales = parent_user(ParentRole.SALES)
    parents = Customer.objects.create(legal_name="Dunder Mifflin", domain="dundermifflin.com", country="US")
    direct = deal_services.opportunity_create(user=sales, name="Paper deal", amount=Decimal("900"), customer=parents)
    registration = registration_of(rep_a, name="Dunder Mifflin Paper", domain="dundermifflin.com")

    with pytest.raises(ValidationError) as refused:
        deal_services.deal_registration_approve(user=reviewer, registration=registration)
    assert "Direct opportunity" in str(refused.value)
    assert not CustomerRelationship.objects.filter(customer=parents).exists()

    deal_services.deal_registration_approve(
        user=reviewer, registration=registration, override_conflicts=True, reason="Partner found it first"
    )
    direct.refresh_from_db()
    assert direct.stage == OpportunityStage.CLOSED_LOST and "registration" in direct.lost_reason
    assert Opportunity.objects.filter(registration=registration, customer=parents).exists()


def test_portal_approval_with_override(client, partner_a, rep_a, reviewer):
    customer_of(PartnerFactory(), legal_name="Vehement Capital", domain="vehement.com")
    registration = registration_of(rep_a, name="Vehement Capital", domain="vehement.com")
    client.force_login(reviewer)
    url = f"/portal/deals/registrations/{registration.pk}/approve/"
    client.post(url, {"reason": ""})
    registration.refresh_from_db()
    assert registration.status == "submitted"
    client.post(url, {"reason": "Decided", "override_conflicts": "on"})
    registration.refresh_from_db()
    assert registration.status == "approved" and Customer.objects.count() == 1


def test_concurrent_creation_is_serialised_by_the_key_lock(partner_a, rep_a):
    # The lock rows exist for the key, and the second create finds the first one's record.
    first = services.customer_create(user=rep_a, legal_name="Racing Ltd", country="US", domain="racing.example")
    key = identity.customer_key(name="Racing", domain="racing.example", country="US")
    identity.lock_key(key)
    second = services.customer_create(user=rep_a, legal_name="Racing", country="US")
    assert second.pk == first.pk


# Merging the duplicates a deployed database holds --------------------------------------------------


def test_duplicate_groups_union_name_and_domain_keys():
    rows = [
        {"pk": 1, "country": "US", "normalized_name": "acme", "domain_key": "acme.com"},
        {"pk": 2, "country": "US", "normalized_name": "acme corp x", "domain_key": "acme.com"},
        {"pk": 3, "country": "US", "normalized_name": "acme corp x", "domain_key": ""},
        {"pk": 4, "country": "DE", "normalized_name": "acme", "domain_key": "acme.com"},
        {"pk": 5, "country": "US", "normalized_name": "other", "domain_key": ""},
    ]
    assert duplicate_groups(rows) == [[1, 2, 3]]


@pytest.mark.django_db(transaction=True)
def test_migration_merges_existing_duplicates_keeping_every_reference():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("partners", "0006_customer_identity")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    HCustomer = apps.get_model("partners", "Customer")
    HPartner = apps.get_model("partners", "Partner")
    HRelationship = apps.get_model("partners", "CustomerRelationship")
    HCommission = apps.get_model("partners", "Commission")
    a = HPartner.objects.create(name="A", slug="merge-a", business_model="dual", country="US")
    b = HPartner.objects.create(name="B", slug="merge-b", business_model="dual", country="US")
    keep = HCustomer.objects.create(
        legal_name="Acme", normalized_name="acme", domain="", domain_key="", country="US", status="prospect"
    )
    dup = HCustomer.objects.create(
        legal_name="ACME Inc",
        normalized_name="acme",
        domain="acme.com",
        domain_key="acme.com",
        country="US",
        status="active",
        industry="Retail",
    )
    HRelationship.objects.create(customer=keep, partner=a, kind="originating")
    HRelationship.objects.create(customer=dup, partner=a, kind="originating")  # the same fact twice
    HRelationship.objects.create(customer=dup, partner=b, kind="servicing")
    HCommission.objects.create(partner=b, source="closed_deal", source_ref="x:1", customer=dup, amount=Decimal("5"))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    merged = Customer.objects.get()
    assert merged.pk == keep.pk and merged.status == "active" and merged.domain == "acme.com"
    assert merged.industry == "Retail"
    assert set(merged.relationships.values_list("partner__slug", "kind")) == {
        ("merge-a", "originating"),
        ("merge-b", "servicing"),
    }
    assert merged.commissions.count() == 1
    assert AuditEvent.objects.filter(verb="customer.merge", object_id=str(keep.pk)).exists()
    assert Permission.objects.exists()  # the schema is back at the latest state


def test_admin_approval_over_a_conflict_asks_for_a_reason(client, partner_a, rep_a):
    original = customer_of(PartnerFactory(), legal_name="Admin Conflict Co", domain="adminconflict.example")
    registration = registration_of(rep_a, name="Admin Conflict Co", domain="adminconflict.example")
    client.force_login(parent_user(ParentRole.ADMIN, superuser=True))
    url = "/admin/deals/dealregistration/"
    client.post(url, {"action": "approve", "_selected_action": [registration.pk]})
    registration.refresh_from_db()
    assert registration.status == "submitted"  # the plain approval refuses the conflict
    page = client.post(url, {"action": "approve_override", "_selected_action": [registration.pk]})
    assert page.status_code == 200 and "Reason" in page.content.decode()
    client.post(
        url,
        {
            "action": "approve_override",
            "_selected_action": [registration.pk],
            "confirm": "yes",
            "override_reason": "Customer moved to Alpha",
        },
    )
    registration.refresh_from_db()
    assert registration.status == "approved" and registration.customer == original
    assert AuditEvent.objects.filter(verb="deal_registration.override", reason="Customer moved to Alpha").exists()
