import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Customer
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, customer_of, partner_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_customer_is_absent_and_404_for_every_verb(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    theirs = PartnerFactory()
    user = partner_user(mine, role)
    own = customer_of(mine, owner=user)
    other = customer_of(theirs)
    client = api_as(user)

    listed = {row["id"] for row in client.get("/api/v1/customers/?page_size=100").json()["results"]}
    assert own.pk in listed
    assert other.pk not in listed
    url = f"/api/v1/customers/{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.put(url, {"legal_name": "X", "country": "US"}).status_code == 404
    assert client.patch(url, {"legal_name": "X"}).status_code == 404
    assert client.delete(url).status_code == 404
    other.refresh_from_db()
    assert other.legal_name != "X"


def test_rep_sees_own_customers_not_colleagues(partner_a, rep_a, admin_a):
    own = customer_of(partner_a, owner=rep_a)
    colleagues = customer_of(partner_a, owner=admin_a)
    ids = {row["id"] for row in api_as(rep_a).get("/api/v1/customers/").json()["results"]}
    assert ids == {own.pk}
    assert api_as(rep_a).get(f"/api/v1/customers/{colleagues.pk}/").status_code == 404
    assert {row["id"] for row in api_as(admin_a).get("/api/v1/customers/").json()["results"]} == {own.pk, colleagues.pk}


def test_referral_partner_sees_only_status():
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user, industry="Aviation")
    body = api_as(user).get(f"/api/v1/customers/{customer.pk}/").json()
    assert set(body) == {"id", "legal_name", "country", "status"}


def test_create_customer_records_relationship_and_audit(partner_a, rep_a):
    response = api_as(rep_a).post(
        "/api/v1/customers/", {"legal_name": "Acme, Inc.", "domain": "https://www.Acme.com/", "country": "US"}
    )
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.normalized_name == "acme"
    assert customer.domain == "acme.com"
    assert customer.relationships.get().partner == partner_a
    assert AuditEvent.objects.filter(verb="customer.create", object_id=str(customer.pk)).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"domain": "a.com", "country": "US"}, "legal_name"),
        ({"legal_name": "A", "country": "USA"}, "country"),
        ({"legal_name": "A" * 201, "country": "US"}, "legal_name"),
        ({"legal_name": "A", "country": "US", "colour": "red"}, "colour"),
        ({"legal_name": "A", "country": "US", "size": "huge"}, "size"),
    ],
)
def test_bad_customer_input_is_400_and_writes_nothing(rep_a, payload, field):
    before = Customer.objects.count()
    response = api_as(rep_a).post("/api/v1/customers/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert Customer.objects.count() == before


@pytest.mark.parametrize("page_size", [1, 50])
def test_customer_list_query_count_is_constant(partner_a, admin_a, page_size):
    for _ in range(60):
        customer_of(partner_a, owner=admin_a)
    client = api_as(admin_a)
    client.get("/api/v1/customers/?page_size=1")  # warm the actor cache path
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/customers/?page_size={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert len(queries) <= 5, [q["sql"] for q in queries]


def test_anonymous_is_401(api, partner_a):
    assert api.get("/api/v1/customers/").status_code == 401
